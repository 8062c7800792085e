"""Running the follow-up schedule: send each step due today, once, and say what was sent and skipped.

`tratos follow-up` runs from cron or a systemd timer, maybe twice at once. Each step is first
claimed (`FollowUpClaimed`, saved under the stream's optimistic version check), then composed,
kept as evidence and delivered, then recorded sent (`FollowUpSent`) or, if the server did not
take it, released (`FollowUpFailed`) for the next run. A second run finds the step claimed or
sent and skips it: no step is sent twice. A step whose day passed while nothing ran is sent
once, late, and its message says so (ADR-48).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from domain.adapters.evidence import EvidenceFolder, describe
from domain.model.errors import Refused, TratosError
from domain.model.follow_up import Step, due_steps
from domain.model.late_fees import invoice_claim

if TYPE_CHECKING:
    from domain.model.late_fees import Claim
    from domain.model.money import Money
    from domain.services.application import Tratos
    from domain.services.sending import Composed, Deliverer


@dataclass(frozen=True)
class FollowUpLetter:
    """What a follow-up message says: the step, its tone, what it is about, and to whom."""

    step: Step
    kind: str  # invoice, contract, change
    lang: str
    client_name: str
    from_address: str
    from_name: str
    to: list[str]
    today: date
    title: str = ""
    outstanding: Money | None = None
    due: date | None = None
    claim: Claim | None = None


@dataclass
class FollowUpReport:
    sent: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    due: list[dict[str, Any]] = field(default_factory=list)  # a dry run's: what would be sent

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "skipped": self.skipped, "failed": self.failed, "due": self.due}


def run_follow_up(app: Tratos, handles: Iterable[str], compose: Any, deliver: Deliverer | None, *,
                  from_address: str, from_name: str, lang: str, today: date,
                  dry_run: bool = False) -> FollowUpReport:
    """Send every step due by `today` in the relationships `handles`; `deliver` None is a dry run."""
    report = FollowUpReport()
    folder = EvidenceFolder.of(app.home)
    for handle in handles:
        relationship = app.relationship(handle)
        for step in list(due_steps(relationship, today)):
            line = _line(handle, step, today)
            email = relationship.client.email if relationship.client else ""
            if not email:
                report.skipped.append({**line, "why": "the client has no email address"})
                continue
            if dry_run or deliver is None:
                report.due.append(line)
                continue
            try:
                app.claim_follow_up(handle, step.subject, step.step, on=today)
            except Refused as taken:  # another run took it between our reading and our claim
                report.skipped.append({**line, "why": str(taken)})
                continue
            try:
                letter = _letter(relationship, step, lang, [email], from_address, from_name, today)
                composed: Composed = compose(letter)
                with folder.keeping([composed.content]):
                    reply = deliver([email], composed.content)
            except TratosError as refused:
                app.fail_follow_up(handle, step.subject, step.step, reason=str(refused)[:1000], on=today)
                report.failed.append({**line, "why": str(refused)})
                continue
            except BaseException as broken:  # whatever stopped it, the step is released, never left claimed
                why = "interrupted" if isinstance(broken, KeyboardInterrupt | SystemExit) else "an unexpected error"
                app.fail_follow_up(handle, step.subject, step.step, on=today,
                                   reason=f"stopped before it was sent ({why})")
                raise
            app.send_follow_up(handle, step.subject, step.step, on=today, scheduled_on=step.on, tone=step.tone,
                               to=[email], subject=composed.subject, message_id=composed.message_id,
                               sent_at=composed.sent_at, server_reply=reply,
                               evidence=[describe(_eml_name(handle, step), composed.content)])
            report.sent.append({**line, "to": [email], "server_reply": reply, "message_id": composed.message_id})
    return report


def _line(handle: str, step: Step, today: date) -> dict[str, Any]:
    return {"client": handle, "about": step.subject, "step": step.step, "tone": step.tone,
            "scheduled_on": step.on.isoformat(), "days_late": (today - step.on).days}


def _eml_name(handle: str, step: Step) -> Any:
    from pathlib import Path

    return Path(f"{handle}-follow-up-{step.subject}-{step.step}.eml")


def _letter(relationship: Any, step: Step, lang: str, to: list[str], from_address: str, from_name: str,
            today: date) -> FollowUpLetter:
    client = relationship.client.name if relationship.client else relationship.handle
    common = {"step": step, "lang": lang, "client_name": client, "from_address": from_address,
              "from_name": from_name, "to": to, "today": today}
    if step.subject in relationship.invoices:
        invoice = relationship.invoices[step.subject]
        claim = invoice_claim(relationship, invoice, today) if step.tone == "final" else None
        return FollowUpLetter(kind="invoice", outstanding=invoice.outstanding, due=invoice.due, claim=claim, **common)
    if step.subject in relationship.contracts:
        return FollowUpLetter(kind="contract", title=relationship.contracts[step.subject].title, **common)
    return FollowUpLetter(kind="change", title=relationship.changes[step.subject].description[:200], **common)

