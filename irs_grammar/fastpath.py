"""The fast path: one regular expression, assembled from the grammar's terminals.

It reads the common case, a valid line, without building a Lark tree. It
mirrors the contextual lexer: every token is atomic and every optional token
possessive (the lexer never gives back what a terminal matched, nor tries an
empty value after a value that led nowhere), the field loop is possessive, and the
keywords PRICE and REASON are the grammar's own PRICE_KEY / REASON_KEY
literals. What it cannot take it leaves to the Lark parser, which also writes
every error message. tests/test_fastpath.py proves the two agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, tzinfo
from functools import cache

from .grammar import terminal_pattern
from .model import REASON, InquiryResponse


def _head() -> str:
    """`R#`, the product, `. ` and every complete field but REASON: groups product, fields."""
    t = terminal_pattern
    price_key, reason_key, sep = t("PRICE_KEY"), t("REASON_KEY"), t("_SEP")
    generic_field = f"(?!{price_key}|{reason_key}){t('KEY')}(?:{t('VALUE')})?+{sep}"
    price_field = f"{price_key}(?>{t('PRICE_VALUE')}){sep}"
    return (
        f"{t('_REPLY_MARK')}(?P<product>(?:{t('PRODUCT')})?+){sep}"
        f"(?P<fields>(?:{generic_field}|{price_field})*+)"
    )


@cache
def line_re() -> re.Pattern[str]:
    """The whole reply line; groups: product, fields, reason, time, date."""
    t = terminal_pattern
    return re.compile(
        f"{_head()}"
        f"(?:{t('REASON_KEY')}(?P<reason>(?:{t('REASON_VALUE')})?+){t('_SEP')})?"
        f"{t('_AT')}(?P<time>{t('TIME')}){t('_SPACE')}(?P<date>{t('DATE')})(?:{t('LINE_END')})?\\Z"
    )


@cache
def head_re() -> re.Pattern[str]:
    """The start of any line, up to the end of its last complete field (see reference.refuse)."""
    return re.compile(_head())


# Appended to the `fields` group before it is split: after it, the group's
# last ". " is followed by ". KEY: ", so its last value ends there as it did in
# the line (where a field, REASON or the final timestamp followed).
FIELDS_END = "A: "


@cache
def field_re() -> re.Pattern[str]:
    """One field of the `fields` group plus FIELDS_END: (name, value).

    PRICE values are ASCII digits, which VALUE reads the same.
    """
    key = terminal_pattern("KEY")
    assert re.fullmatch(key, FIELDS_END)
    return re.compile(
        f"({key.removesuffix(': ')}): ((?:{terminal_pattern('VALUE')})?){terminal_pattern('_SEP')}"
    )


@cache
def fast_reader() -> Callable[[str, tzinfo | None], InquiryResponse | None]:
    """parse_fast(line, tz): the reply, or None when the Lark parser must decide."""
    match_line = line_re().match
    find_fields = field_re().findall
    trusted = InquiryResponse.trusted
    fromisoformat = datetime.fromisoformat

    def parse_fast(line: str, tz: tzinfo | None) -> InquiryResponse | None:
        m = match_line(line)
        if m is None:
            return None
        product, block, reason, t, d = m.groups()
        fields = find_fields(block + FIELDS_END) if block else []
        if reason is not None:
            fields.append((REASON, reason))
        try:  # the groups are ASCII digits in fixed places: ISO order is all it takes
            moment = fromisoformat(f"{d[6:]}-{d[3:5]}-{d[:2]}T{t}")
        except ValueError:  # not a real moment: the slow path says which part
            return None
        if tz is not None:
            moment = moment.replace(tzinfo=tz)
        return trusted(product, tuple(fields), moment)

    return parse_fast
