"""reconcile() against a small model of its documented rules, over random buy histories.

The model is written from the module's documentation (irs_grammar/reconciliation.py and
docs/format.md), not from the code: each rule a few obvious lines, so that a one-line slip in
the real rules (which reply a rule looks at, which outcomes are not final, the sign of a
difference, from which reply an age counts) shows as a disagreement on some drawn history.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

import irs_grammar as irs
from irs_grammar.wire.transaction import TransactionResponse
from tests.command import run
from tests.reach import reached

START = datetime(2024, 12, 1, 8, 0)
AT_EIGHT = "@08:00:00.000000 01/12/2024"
PENDING_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Step:
    """One buy reply as drawn: what the model reads, and the line written from it."""

    ref_id: str
    status: str
    serial: str | None
    trxid: str
    balance: tuple[int, int, int] | None
    refid: str | None
    when: datetime

    def line(self) -> str:
        reply = TransactionResponse.build(
            ref_id=self.ref_id,
            product_code="DN1",
            destination="0811",
            status=self.status,
            serial_number=self.serial,
            transaction_id=self.trxid,
            balance=self.balance,
            refid=self.refid,
            timestamp=self.when,
        )
        return irs.serialize(reply)


AMOUNTS = st.sampled_from([0, 1000, 2000, 5000])


@st.composite
def histories(draw: st.DrawFn) -> list[Step]:
    """Replies of up to four ref_ids, interleaved, one minute or more apart, in log order."""
    refs = draw(st.lists(st.sampled_from(["A", "B", "C", "D"]), min_size=1, max_size=8))
    steps, when = [], START
    for ref_id in refs:
        when += timedelta(minutes=draw(st.sampled_from([1, 5, 30, 61, 200])))
        balance = None
        if draw(st.booleans()):
            before, deduction = draw(st.sampled_from([10_000, 9_000, 8_000])), draw(AMOUNTS)
            after = before - deduction + draw(st.sampled_from([0, 0, 0, 500, -500]))
            balance = (before, deduction, max(after, 0))
        steps.append(
            Step(
                ref_id=ref_id,
                status=draw(st.sampled_from(["INPROGRESS", "SUCCESS", "FAILED", "PENDING"])),
                serial=draw(st.sampled_from([None, "111", "222"])),
                trxid=draw(st.sampled_from(["T1", "T2"])),
                balance=balance,
                refid=draw(st.sampled_from([None, ref_id, ref_id, "OTHER"])),
                when=when,
            )
        )
    return steps


FINAL = ("SUCCESS", "FAILED")


def model(steps: list[Step]) -> tuple[dict[str, str], Counter[tuple[str, str]], int]:
    """Outcome by ref_id, the anomalies as (kind, ref_id) counts, and the deducted total."""
    by_ref: dict[str, list[Step]] = {}
    for step in steps:
        by_ref.setdefault(step.ref_id, []).append(step)
    last_moment = steps[-1].when
    outcomes: dict[str, str] = {}
    found: Counter[tuple[str, str]] = Counter()
    deducted = 0
    for ref_id, replies in by_ref.items():
        statuses = [r.status for r in replies]
        finals = [r for r in replies if r.status in FINAL]
        if "SUCCESS" in statuses and "FAILED" in statuses:
            outcomes[ref_id] = "conflicting"
            found["conflicting_outcome", ref_id] += 1
        elif finals:
            outcomes[ref_id] = "succeeded" if finals[-1].status == "SUCCESS" else "failed"
        else:
            outcomes[ref_id] = "pending" if statuses[-1] == "INPROGRESS" else "unknown"
        if finals:
            first = finals[0]
            for later in replies[replies.index(first) + 1 :]:
                same_status = later.status == first.status
                if same_status and (later.serial, later.trxid, later.balance) != (
                    first.serial,
                    first.trxid,
                    first.balance,
                ):
                    found["changed_after_final", ref_id] += 1
        for r in replies:
            if r.status == "FAILED" and r.balance is not None and r.balance[1] > 0:
                found["failed_with_deduction", ref_id] += 1
            if r.refid is not None and r.refid != ref_id:
                found["refid_mismatch", ref_id] += 1
            if r.balance is not None and r.balance[0] - r.balance[1] != r.balance[2]:
                found["balance_mismatch", ref_id] += 1
        charges = {(r.trxid, r.balance) for r in replies if r.balance is not None and r.balance[1] > 0}
        if len({trxid for trxid, _ in charges}) > 1:
            found["duplicate_charge", ref_id] += 1
        deducted += sum(balance[1] for _, balance in charges if balance is not None)
        if outcomes[ref_id] in ("pending", "unknown") and last_moment - replies[0].when > PENDING_AFTER:
            found["stuck_pending", ref_id] += 1
    # The balance chain: in time order, every snapshot but a repeat of one seen for its ref_id and TRXID.
    seen: set[tuple[str, str, tuple[int, int, int]]] = set()
    previous: Step | None = None
    for step in steps:
        if step.balance is None or (step.ref_id, step.trxid, step.balance) in seen:
            continue
        seen.add((step.ref_id, step.trxid, step.balance))
        if previous is not None and previous.balance is not None and step.balance[0] != previous.balance[2]:
            found["balance_gap", step.ref_id] += 1
        previous = step
    return outcomes, found, deducted


@given(steps=histories())
def test_reconcile_agrees_with_the_model_of_its_rules(
    steps: list[Step], tmp_path_factory: pytest.TempPathFactory
) -> None:
    log = tmp_path_factory.mktemp("model") / "buys.log"
    log.write_text("".join(step.line() + "\n" for step in steps), encoding="utf-8")
    result = irs.reconcile([log], pending_after=PENDING_AFTER)
    outcomes, anomalies, deducted = model(steps)
    reached()
    for kind, _ in anomalies:
        event(f"anomaly: {kind}")
    assert {ref_id: t.outcome for ref_id, t in result.transactions.items()} == outcomes
    assert Counter((a.kind, a.ref_id) for a in result.anomalies) == anomalies
    assert result.deducted() == deducted


@pytest.mark.parametrize(
    ("lines", "status"),
    [
        ([f"R#A DN1. 0811 SUCCESS. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {AT_EIGHT}"], 0),
        ([f"R#A DN1. 0811 FAILED. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.000 {AT_EIGHT}"], 1),
        ([f"R#A DN1. 0811 SUCCESS. TRXID: T1. SISA SALDO: 10.000 - 1.000 = 9.500 {AT_EIGHT}"], 1),
        (
            [
                "R#A DN1. 0811 INPROGRESS. TRXID: T1. @08:00:00.000000 01/12/2024",
                "R#B DN1. 0811 INPROGRESS. TRXID: T2. @09:00:01.000000 01/12/2024",
            ],
            1,  # A stuck for an hour and a second at the last moment read
        ),
        (
            [
                "R#A DN1. 0811 INPROGRESS. TRXID: T1. @08:00:00.000000 01/12/2024",
                "R#B DN1. 0811 INPROGRESS. TRXID: T2. @09:00:00.000000 01/12/2024",
            ],
            0,  # an hour exactly is not past it
        ),
    ],
)
def test_reconcile_exits_1_on_any_anomaly_and_0_without(
    lines: list[str], status: int, tmp_path: Path
) -> None:
    log = tmp_path / "buys.log"
    log.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    assert run("reconcile", str(log)).returncode == status
