"""Checking reply logs: every line accounted for, lazily, in order.

`validate()` is the library call: one LineResult per input line. The CLI
(`irs-grammar validate`) uses check_batch() over batches of raw lines, which
worker processes can share, and Summary to count what it saw.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any, NamedTuple, cast

from .batches import in_order
from .errors import ParseError
from .lines import MAX_LINE_BYTES, Overlong, is_blank, line_text, numbered_lines
from .wire.fastpath import matcher
from .wire.inquiry import InquiryResponse
from .wire.kinds import KINDS, kind_of_reply
from .wire.parser import parse_reply
from .wire.reply import error_code_of
from .wire.transaction import KNOWN_STATUSES, TransactionResponse, rupiah

REPLY_START = "R#"


class LineResult(NamedTuple):
    """What one line of a log holds: a reply, an error, or nothing (blank).

    >>> import irs_grammar as irs
    >>> result = next(irs.validate(["R#A. @99:00:00.000000 01/01/2025"]))
    >>> result.number, result.valid, result.blank, result.error.message
    (1, False, False, 'hour 99 is not 00 to 23')
    """

    number: int
    reply: InquiryResponse | TransactionResponse | None = None
    error: ParseError | None = None

    @property
    def valid(self) -> bool:
        return self.reply is not None

    @property
    def blank(self) -> bool:
        return self.reply is None and self.error is None


def check_line(number: int, text: str, *, extract: bool, tz: tzinfo | None = None) -> LineResult:
    """One line of a log, read once as the kind it starts like. With `extract`, the reply starts at its
    first `R#`."""
    if is_blank(text):
        return LineResult(number)
    start = text.find(REPLY_START) if extract else 0
    if start < 0:
        return LineResult(
            number,
            error=ParseError(
                "no reply in this line (no 'R#')", text=text, column=1, expected=('"R#"',), line=number
            ),
        )
    try:
        return LineResult(number, parse_reply(text[start:] if start else text, tz=tz))
    except ParseError as e:
        return LineResult(
            number,
            error=ParseError(
                e.message, text=text, column=e.column + start, expected=e.expected, line=number, field=e.field
            ),
        )


def validate(
    source: str | os.PathLike[str] | Iterable[str | bytes],
    *,
    extract: bool = False,
    tz: tzinfo | None = None,
) -> Iterator[LineResult]:
    """One LineResult per line of a log, lazily and in order; line numbers from 1.

    `source` is a path (`.gz` is read as it is, `-` is standard input) or an
    iterable of lines, str or bytes (bytes lines that are not UTF-8 are
    invalid lines, not a crash). Blank lines are reported as blank. With
    `extract`, whatever stands before a line's first `R#` (a log prefix) is
    ignored; columns still count from the start of the line.

    >>> import irs_grammar as irs
    >>> log = ["R#A. @12:00:00.000000 01/01/2025\\n", "\\n", "2025-01-01 INFO R#A. @12:00:00"]
    >>> [(r.number, r.valid, r.blank) for r in irs.validate(log)]
    [(1, True, False), (2, False, True), (3, False, False)]
    >>> [r.error.column for r in irs.validate(log, extract=True) if r.error]
    [23]
    """
    for _, number, text in numbered_lines(source):
        if isinstance(text, ParseError):
            yield LineResult(number, error=text)
        else:
            yield check_line(number, text, extract=extract, tz=tz)


# -- counting ------------------------------------------------------------------------


@dataclass(slots=True)
class Summary:
    """Counts over a log: lines, their kinds, and what the valid replies say.

    >>> import irs_grammar as irs
    >>> summary = irs.Summary()
    >>> for result in irs.validate(["R#A. @12:00:00.000000 01/01/2025", "", "R#1 A FAILED. TRXID: -. "
    ...                             "SISA SALDO: 1.000 - 500 = 500 @12:00:00.000000 01/01/2025"]):
    ...     summary.add(result)
    >>> print(summary.text())
    lines: 3 (valid 2, invalid 0, blank 1)
    inquiry replies: 1 (succeeded 1, failed 0)
    transaction replies: 1 (FAILED 1), deducted 500
    by product: A 2
    """

    lines: int = 0
    valid: int = 0
    invalid: int = 0
    blank: int = 0
    succeeded: int = 0
    failed: int = 0
    products: Counter[str] = field(default_factory=Counter)
    error_codes: Counter[str] = field(default_factory=Counter)
    transactions: Counter[str] = field(default_factory=Counter)  # by status word
    deducted: int = 0  # the sum of the deductions the transaction replies report

    def add(self, result: LineResult) -> None:
        reply = result.reply
        self.lines += 1
        kind = kind_of_reply(reply)
        if kind is not None and kind.role == "transaction":
            step = cast(TransactionResponse, reply)  # a step of a buy: a status and a deduction
            self.valid += 1
            self.products[step.product_code] += 1
            self.transactions[step.status] += 1
            self.deducted += step.deduction or 0
        elif reply is not None:
            answer = cast(InquiryResponse, reply)  # an answer: an inquiry's, or a registered kind's alike
            self.valid += 1
            self.products[answer.product_code] += 1
            if answer.ok:
                self.succeeded += 1
            else:
                self.failed += 1
                code = answer.error_code
                if code is not None:
                    self.error_codes[code] += 1
        elif result.error is not None:
            self.invalid += 1
        else:
            self.blank += 1

    def merge(self, other: Summary) -> None:
        self.lines += other.lines
        self.valid += other.valid
        self.invalid += other.invalid
        self.blank += other.blank
        self.succeeded += other.succeeded
        self.failed += other.failed
        self.products.update(other.products)
        self.error_codes.update(other.error_codes)
        self.transactions.update(other.transactions)
        self.deducted += other.deducted

    def to_dict(self) -> dict[str, Any]:
        return {
            "lines": self.lines,
            "valid": self.valid,
            "invalid": self.invalid,
            "blank": self.blank,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "products": dict(self.products.most_common()),
            "error_codes": {f"Err:{code}": n for code, n in self.error_codes.most_common()},
            "transactions": {str(status): n for status, n in self.transactions.most_common()},
            "deducted": self.deducted,
        }

    def text(self, *, thousands: bool = False) -> str:
        """The text report; amounts in plain digits, or with `thousands` grouped as on the wire."""
        lines = [
            f"lines: {self.lines} (valid {self.valid}, invalid {self.invalid}, blank {self.blank})",
        ]
        inquiries = self.succeeded + self.failed
        if inquiries or not self.transactions:
            lines.append(f"inquiry replies: {inquiries} (succeeded {self.succeeded}, failed {self.failed})")
        if self.transactions:
            by_status = ", ".join(f"{status} {n}" for status, n in self.transactions.most_common())
            deducted = f"{self.deducted:,}".replace(",", ".") if thousands else str(self.deducted)
            lines.append(
                f"transaction replies: {self.transactions.total()} ({by_status}), deducted {deducted}"
            )
        if self.products:
            shown = ", ".join(f"{code or '(none)'} {n}" for code, n in self.products.most_common())
            lines.append(f"by product: {shown}")
        if self.error_codes:
            lines.append(
                "by error code: " + ", ".join(f"Err:{c} {n}" for c, n in self.error_codes.most_common())
            )
        return "\n".join(lines)


@dataclass(slots=True)
class BatchResult:
    """What check_batch() found: counts, and each invalid line as (number, column, message)."""

    summary: Summary
    errors: list[tuple[int, int, str]]


def check_batch(
    raw_lines: Sequence[bytes | Overlong], first: int, extract: bool, max_line_length: int = MAX_LINE_BYTES
) -> BatchResult:
    """Check consecutive raw lines, the first being line `first`. Runs in worker processes too.

    The hot loop of every log check: a valid reply is counted from the fast
    path's match alone (no reply is built); every other line goes through
    check_line(). Counts keep the order in which each product, code and
    status first appears, as Summary.add() would; a property test holds the
    two to the same counts.
    """
    summary = Summary()
    errors: list[tuple[int, int, str]] = []
    try:  # the common case, decoded in one go; a batch with bad bytes or an overlong line goes line by line
        lines: Sequence[str | bytes | Overlong] = [raw.decode() for raw in raw_lines]  # type: ignore[union-attr]
    except (UnicodeDecodeError, AttributeError):
        lines = raw_lines
    match_answer, match_transaction = role_matchers()
    products: list[str] = []  # of every valid reply, in line order
    reasons: list[str] = []  # of the failed inquiries
    statuses: list[str] = []  # of the transactions
    inquiries = deducted = 0
    for number, line in enumerate(lines, first):
        if type(line) is str:
            # Each kind's match names the groups its role counts (irs_grammar.wire.kinds.Role).
            if (m := match_answer(line)) is not None:
                inquiries += 1
                products.append(m["product"])
                if m["reason"] is not None:
                    reasons.append(m["reason"])
                continue
            if (m := match_transaction(line)) is not None:
                products.append(m["product"])
                statuses.append(KNOWN_STATUSES.get(m["status"], m["status"]))
                if m["deduction"] is not None:
                    deducted += rupiah(m["deduction"])
                continue
        text = line_text(number, line, max_line_length)
        result = (
            LineResult(number, error=text)
            if isinstance(text, ParseError)
            else check_line(number, text, extract=extract)
        )
        reply = result.reply
        kind = kind_of_reply(reply)
        if reply is None:
            summary.add(result)
            if result.error is not None:
                errors.append((number, result.error.column, result.error.message))
        elif kind is not None and kind.role == "transaction":
            step = cast(TransactionResponse, reply)  # a step of a buy: a status and a deduction
            products.append(step.product_code)
            statuses.append(step.status)
            deducted += step.deduction or 0
        else:
            inquiries += 1
            products.append(reply.product_code)
            if reply.reason is not None:
                reasons.append(reply.reason)
    # The summary holds the invalid and blank lines added one by one; the replies are counted here.
    valid = inquiries + len(statuses)
    summary.lines += valid
    summary.valid = valid
    summary.failed = len(reasons)
    summary.succeeded = inquiries - len(reasons)
    summary.products.update(products)
    summary.error_codes.update(code for code in map(error_code_of, reasons) if code is not None)
    summary.transactions.update(statuses)
    summary.deducted = deducted
    return BatchResult(summary, errors)


Matcher = Callable[[str], "re.Match[str] | None"]


def role_matchers() -> tuple[Matcher, Matcher]:
    """One matcher for the lines of every kind of each role: answers (inquiries first), transactions."""
    answers = [matcher(kind.shape) for kind in reversed(KINDS) if kind.role == "answer"]
    transactions = [matcher(kind.shape) for kind in KINDS if kind.role == "transaction"]
    return _any_of(answers), _any_of(transactions)


def _any_of(matchers: list[Matcher]) -> Matcher:
    """The first match of several matchers; one matcher as it is (the hot loop's usual case)."""
    if len(matchers) == 1:
        return matchers[0]

    def match(line: str) -> re.Match[str] | None:
        for each in matchers:
            m = each(line)
            if m is not None:
                return m
        return None

    return match


# -- whole logs, in batches, on several cores (irs_grammar.batches) --------------------------


def check_log(
    path: str,
    *,
    extract: bool = False,
    jobs: int = 1,
    max_line_length: int = MAX_LINE_BYTES,
    done: Callable[[int, int], object] | None = None,
) -> Iterator[BatchResult]:
    """Check a log in batches of lines, in order, on up to `jobs` processes.

    Raises LogReadError when the log cannot be read to its end, after every
    batch read before the failure has been yielded (so what is reported does
    not depend on `jobs`). Memory stays flat: a line is at most
    `max_line_length` bytes (a longer one is an invalid line), a batch at most
    BATCH_BYTES, and at most WINDOW_BYTES are in flight to the workers.
    """
    return in_order(
        path,
        check_batch,
        (extract, max_line_length),
        jobs=jobs,
        max_line_length=max_line_length,
        prepare=role_matchers,
        done=done,
    )
