"""`python -m irs_grammar`: the same as the `irs-grammar` command."""

import sys

from .cli import main

sys.exit(main())
