"""0.2.0's home of `InquiryResponse`, kept so that replies pickled by 0.2.0 still load.

The class lives in `irs_grammar.wire.inquiry`; import it from `irs_grammar`.
"""

from .wire.inquiry import InquiryResponse

__all__ = ["InquiryResponse"]
