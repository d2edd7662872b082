"""Loading the golden corpus in corpus/ (JSON Lines, one case a line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parent.parent / "corpus"


def load(name: str) -> list[dict[str, Any]]:
    """The cases of one corpus file, e.g. load("inquiry/variants.jsonl")."""
    with open(CORPUS / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def case_id(case: dict[str, Any]) -> str:
    return str(case["name"])


def in_a_file(line: str) -> bool:
    """A line a log file can hold: one line of UTF-8 text (no line break, no lone surrogate)."""
    return "\n" not in line and "\r" not in line and not any("\ud800" <= c <= "\udfff" for c in line)
