"""The wire-format core: one line in, one line out.

Everything that reads or writes one reply line lives here, and nothing else:
the grammar files and the terminals generated from them (`grammar`,
`_terminals`), the pieces every reply shares (`timestamp`, `pln`, `reply`,
`schema`), one module per kind of reply (`inquiry`, `transaction`), the table
of kinds (`kinds`), the fast path and the Lark reader (`fastpath`, `trees`,
`reference`), the entry points (`parser`, `serializer`, `writers`) and the
request URLs (`request`).

The core imports nothing of the package but itself and `irs_grammar.errors`,
and knows nothing of logs, records files, SQLite, HTTP or Hypothesis
(tests/test_layers.py holds that). The tools on it (validation, records,
reconciliation, the fake endpoint, strategies, the command line) live one
level up, in `irs_grammar`.

This package imports nothing when it is imported: each module is loaded by
the first one that needs it.
"""
