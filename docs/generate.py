"""Render the docs that are derived from the grammars: `make docs`.

- docs/diagrams/<grammar>-<rule>.svg: a railroad diagram of each rule, drawn
  from the rule as Lark loads it (literal terminals show their text, the
  others their name);
- the tables between `<!-- generated:... -->` markers in docs/format.md: every
  terminal with its readable name and pattern, the documented field names,
  and the columns of the typed record;
- the command reference in docs/cli.md: each command's description and
  arguments, as the command's own argument parser holds them.

tests/test_docs.py fails when a committed file differs from what this writes.
"""

from __future__ import annotations

import argparse
import ast
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import railroad
from lark import Tree
from lark.grammar import NonTerminal, Terminal
from lark.load_grammar import load_grammar

from irs_grammar.cli import build_argument_parser
from irs_grammar.errors import READABLE_TERMINALS
from irs_grammar.records import SCHEMA, TRANSACTION_SCHEMA, json_schema
from irs_grammar.wire.grammar import (
    INQUIRY_GRAMMAR,
    TRANSACTION_GRAMMAR,
    build_parser,
    grammar_path,
    grammar_text,
)
from irs_grammar.wire.inquiry import DOCUMENTED_NAMES

DOCS = Path(__file__).resolve().parent
GRAMMARS = {"inquiry": INQUIRY_GRAMMAR, "transaction": TRANSACTION_GRAMMAR}


def _loaded(name: str) -> Any:
    grammar, _ = load_grammar(  # type: ignore[no-untyped-call]
        grammar_text(name), name, [str(grammar_path(name).parent)], False
    )
    return grammar


def _literals(grammar: Any) -> dict[str, str]:
    """Terminal name -> its text, for terminals that are one string literal."""
    literals = {}
    for name, (tree, _priority) in grammar.term_defs:
        values = list(tree.find_data("literal"))
        if len(values) == 1 and len(list(tree.iter_subtrees())) == 4:  # expansions/expansion/value/literal
            token = values[0].children[0]
            if token.type == "STRING":
                literals[name] = ast.literal_eval(token)
    return literals


def _item(node: Any, literals: dict[str, str]) -> Any:
    """A railroad item for one node of a Lark rule tree."""
    if isinstance(node, Terminal):
        if node.name in literals:  # spaces matter in this format: show them
            return railroad.Terminal(literals[node.name].replace(" ", "␣"))
        return railroad.NonTerminal(node.name, title=READABLE_TERMINALS.get(node.name))
    if isinstance(node, NonTerminal):
        return railroad.NonTerminal(node.name, href=f"#{node.name}", cls="rule")
    assert isinstance(node, Tree), node
    if node.data == "expansions":
        choices = [_item(child, literals) for child in node.children]
        return choices[0] if len(choices) == 1 else railroad.Choice(0, *choices)
    if node.data == "expansion":
        return railroad.Sequence(*(_item(child, literals) for child in node.children))
    if node.data == "value":
        return _item(node.children[0], literals)
    if node.data == "expr":
        inner, op = _item(node.children[0], literals), str(node.children[1])
        wrap: dict[str, Callable[[Any], Any]] = {
            "?": railroad.Optional,
            "*": railroad.ZeroOrMore,
            "+": railroad.OneOrMore,
        }
        return wrap[op](inner)
    raise ValueError(f"no diagram for {node.data}")


def diagrams() -> dict[str, str]:
    """File name under docs/diagrams -> SVG text, for every rule of every grammar."""
    out = {}
    for short, name in GRAMMARS.items():
        grammar = _loaded(name)
        literals = _literals(grammar)
        for rule, _params, tree, _options in grammar.rule_defs:
            diagram = railroad.Diagram(_item(tree, literals), type="simple")
            svg = io.StringIO()
            diagram.writeStandalone(svg.write)
            out[f"{short}-{rule}.svg"] = svg.getvalue()
    return out


def terminal_table() -> str:
    rows = ["| grammar | terminal | what it is | pattern |", "|---|---|---|---|"]
    for short, name in GRAMMARS.items():
        for terminal in sorted(build_parser(name).terminals, key=lambda t: t.name):
            pattern = (
                terminal.pattern.to_regexp()
                .replace("\r", "\\r")
                .replace("\n", "\\n")
                .replace("\ud800", "\\ud800")  # the lone surrogates a value may not hold, as escapes
                .replace("\udfff", "\\udfff")
                .replace("|", "\\|")
            )
            readable = READABLE_TERMINALS[terminal.name]
            rows.append(f"| {short} | `{terminal.name}` | {readable} | `{pattern}` |")
    return "\n".join(rows)


def names_table() -> str:
    rows = ["| wire key | documented name |", "|---|---|"]
    rows += [f"| `{key}` | `{name}` |" for key, name in DOCUMENTED_NAMES.items()]
    rows += [
        "| (the product code, after `R#`) | `PRODUCT_CODE` |",
        "| (the timestamp, after `@`) | `CURRENT_TIMESTAMP` |",
    ]
    return "\n".join(rows)


def records_table(schema: tuple[tuple[str, str, str], ...] = SCHEMA) -> str:
    rows = ["| column | type | what it holds |", "|---|---|---|"]
    rows += [f"| `{name}` | `{kind}` | {what} |" for name, kind, what in schema]
    return "\n".join(rows)


def json_schemas() -> dict[str, str]:
    """File name under irs_grammar/ -> the JSON Schema of one JSON Lines row of that kind."""
    return {
        name: json.dumps(json_schema(schema), indent=2) + "\n"
        for name, schema in (("record.schema.json", SCHEMA), ("transaction.schema.json", TRANSACTION_SCHEMA))
    }


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _argument(action: argparse.Action) -> str:
    """How an argument is written: `--jobs N`, `PATH ...`, `--buy`."""
    if not action.option_strings:
        shown = action.metavar or action.dest
        return f"`{shown} ...`" if action.nargs in ("+", "*") else f"`{shown}`"
    value = ""
    if action.nargs != 0:
        value = " " + (
            "{" + ",".join(map(str, action.choices)) + "}"
            if action.choices
            else str(action.metavar or action.dest.upper())
        )
    return ", ".join(f"`{option}{value}`" for option in action.option_strings)


def cli_reference() -> str:
    """Each command: its one-line help, its description, and a table of its arguments."""
    top, commands = build_argument_parser()
    helps = {
        choice.dest: choice.help
        for action in top._actions
        if isinstance(action, argparse._SubParsersAction)
        for choice in action._choices_actions
    }
    parts = [f"`{top.prog}`: {top.description}"]
    for name, command in commands.items():
        parts += [f"### `{top.prog} {name}`", f"{helps[name]}.", _cell(command.description)]
        rows = ["| argument | default | required | what it does |", "|---|---|---|---|"]
        for action in command._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            default = "" if action.default in (None, False, [], argparse.SUPPRESS) else f"`{action.default}`"
            required = "yes" if action.required else ""
            rows.append(f"| {_cell(_argument(action))} | {default} | {required} | {_cell(action.help)} |")
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def _filled(current: str, tables: tuple[tuple[str, str], ...]) -> str:
    for marker, table in tables:
        start, end = f"<!-- generated:{marker} -->", f"<!-- end:{marker} -->"
        before, _, rest = current.partition(start)
        _, _, after = rest.partition(end)
        current = f"{before}{start}\n{table}\n{end}{after}"
    return current


def format_md(current: str) -> str:
    """docs/format.md with its generated tables brought up to date."""
    return _filled(
        current,
        (
            ("terminals", terminal_table()),
            ("names", names_table()),
            ("records", records_table()),
            ("transactions", records_table(TRANSACTION_SCHEMA)),
        ),
    )


def cli_md(current: str) -> str:
    """docs/cli.md with its generated reference brought up to date."""
    return _filled(current, (("commands", cli_reference()),))


def main() -> None:
    folder = DOCS / "diagrams"
    folder.mkdir(exist_ok=True)
    for name, svg in diagrams().items():
        (folder / name).write_text(svg, encoding="utf-8")
    page = DOCS / "format.md"
    page.write_text(format_md(page.read_text(encoding="utf-8")), encoding="utf-8")
    commands = DOCS / "cli.md"
    commands.write_text(cli_md(commands.read_text(encoding="utf-8")), encoding="utf-8")
    for name, text in json_schemas().items():
        (DOCS.parent / "irs_grammar" / name).write_text(text, encoding="utf-8")
    written = "docs/format.md, docs/cli.md and the JSON Schemas"
    print(f"wrote {len(diagrams())} diagrams, {written}", file=sys.stderr)


if __name__ == "__main__":
    main()
