"""Mutation testing: `python -m tests.mutation run` is mutmut, mutating decorated functions too."""
