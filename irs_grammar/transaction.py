"""0.2.0's home of the transaction reply's classes, kept so that replies pickled by 0.2.0 still load.

They live in `irs_grammar.wire.transaction`; import them from `irs_grammar`.
"""

from .wire.transaction import Balance, TransactionResponse, TransactionStatus

__all__ = ["Balance", "TransactionResponse", "TransactionStatus"]
