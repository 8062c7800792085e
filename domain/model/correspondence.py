"""The Relationship's correspondence commands: documents sent by email, client emails filed as
evidence, and the follow-up schedule with its steps each sent once (issue 22; a mixin of
domain/model/relationship.py, which holds the state these commands decide on and folds the
events they record)."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from domain.model import events as ev
from domain.model.calendar import not_before
from domain.model.choices import DOCUMENT_LANGUAGES
from domain.model.errors import BadInput, Refused, UnknownReference
from domain.model.follow_up import TONES, Schedule, check_follow_up_schedule, due_steps
from domain.model.mailing import (
    check_filed_evidence,
    check_header,
    check_message_evidence,
    check_message_id,
    check_recipients,
    check_reply,
    filed_key,
)
from domain.model.values import Evidence, check_text

if TYPE_CHECKING:
    from domain.model.relationship import IssuedDocument

FILED = {"received": ev.MessageReceived, "sent": ev.MessageSent}


class Correspondence:
    """Commands of a relationship about what was sent and received (the attributes are `Relationship`'s)."""

    handle: str
    terms: dict[int, Any]
    documents: list[Any]
    schedules: dict[int, Schedule]
    follow_ups: dict[str, str]
    filed: set[str]

    def issued(self, kind: str, document_id: str, sha256: str | None = None) -> IssuedDocument | None:
        """The last document of `kind` about `document_id` recorded as issued (with that SHA-256 if given)."""
        return next((d for d in reversed(self.documents) if d.kind == kind and d.document_id == document_id
                     and (sha256 is None or d.sha256 == sha256)), None)

    def send_document(self, kind: str, *, document_id: str, document_sha256: str, lang: str, to: list[str],
                      cc: list[str] = (), bcc: list[str] = (), subject: str, message_id: str,
                      sent_at: datetime, server_reply: str, evidence: list[Evidence], on: date,
                      actor: str = "") -> ev.DocumentSent:
        """Record a document emailed: it must be one this relationship issued (the same bytes)."""
        document = self.issued(kind, document_id, document_sha256)
        if document is None:
            raise BadInput(f"{self.handle} has no {kind} {document_id} issued with SHA-256 {document_sha256}:"
                           " a document is issued before it is sent")
        not_before(on, document.on, f"{kind} {document_id} was issued")
        if sent_at.tzinfo is None:
            raise BadInput("the time a message was sent states its time zone")
        if lang not in DOCUMENT_LANGUAGES:
            raise BadInput(f"messages are written in {' or '.join(DOCUMENT_LANGUAGES)}, not {lang!r}")
        to, cc, bcc = check_recipients(list(to), list(cc), list(bcc))
        return self._emit(
            ev.DocumentSent, on, actor, kind=kind, document_id=document_id, document_sha256=document_sha256,
            lang=lang, to=to, cc=cc, bcc=bcc,
            subject=check_text(subject, "subject", limit=300), message_id=check_message_id(message_id),
            sent_at=sent_at, server_reply=check_reply(server_reply), evidence=check_message_evidence(evidence))

    def schedule_for(self, terms_version: int | None) -> Schedule | None:
        """The follow-up schedule of a terms version (None: the latest terms'), if it has one."""
        if terms_version is None:
            latest = self.latest_terms
            terms_version = latest[0] if latest else None
        return self.schedules.get(terms_version) if terms_version is not None else None

    def schedule_follow_up(self, terms_version: int, *, remind_before: list[int] = (), remind_after: list[int] = (),
                           chase_after: int | None = None, on: date, actor: str = "") -> ev.FollowUpScheduled:
        """Give terms version `terms_version` its follow-up schedule (recorded with the terms)."""
        if terms_version not in self.terms:
            raise UnknownReference(f"{self.handle} has no terms v{terms_version}")
        if terms_version in self.schedules:
            raise Refused(f"terms v{terms_version} of {self.handle} have a follow-up schedule already:"
                          " publish new terms to change it")
        schedule = check_follow_up_schedule(remind_before, remind_after, chase_after)
        if schedule.empty:
            raise BadInput("a follow-up schedule has at least one step")
        return self._emit(ev.FollowUpScheduled, on, actor, terms_version=terms_version,
                          remind_before=list(schedule.remind_before), remind_after=list(schedule.remind_after),
                          chase_after=schedule.chase_after)

    def claim_follow_up(self, about: str, step: str, *, on: date, actor: str = "") -> ev.FollowUpClaimed:
        """Take a step due on `on` and not sent nor taken yet, before sending it."""
        found = next((s for s in due_steps(self, on) if s.subject == about and s.step == step), None)
        if found is None:
            state = self.follow_ups.get(f"{about}/{step}")
            raise Refused(f"follow-up {about}/{step} of {self.handle} is " + (
                f"{state} already" if state else f"not due on {on}"))
        return self._emit(ev.FollowUpClaimed, on, actor, about=about, step=step, scheduled_on=found.on)

    def _claimed(self, about: str, step: str) -> None:
        if self.follow_ups.get(f"{about}/{step}") != "claimed":
            raise Refused(f"follow-up {about}/{step} of {self.handle} is not taken by a run: claim it first")

    def send_follow_up(self, about: str, step: str, *, scheduled_on: date, tone: str, to: list[str], subject: str,
                       message_id: str, sent_at: datetime, server_reply: str, evidence: list[Evidence],
                       on: date, actor: str = "") -> ev.FollowUpSent:
        """Record a claimed step sent, with what the server answered."""
        self._claimed(about, step)
        if tone not in TONES:
            raise BadInput(f"a follow-up's tone is one of {', '.join(TONES)}, not {tone!r}")
        if sent_at.tzinfo is None:
            raise BadInput("the time a message was sent states its time zone")
        to, _, _ = check_recipients(list(to), [], [])
        return self._emit(ev.FollowUpSent, on, actor, about=about, step=step, scheduled_on=scheduled_on, tone=tone,
                          to=to, subject=check_text(subject, "subject", limit=300),
                          message_id=check_message_id(message_id), sent_at=sent_at,
                          server_reply=check_reply(server_reply), evidence=check_message_evidence(evidence))

    def fail_follow_up(self, about: str, step: str, *, reason: str, on: date, actor: str = "") -> ev.FollowUpFailed:
        """Release a claimed step the server did not take, so the next run tries it again."""
        self._claimed(about, step)
        return self._emit(ev.FollowUpFailed, on, actor, about=about, step=step,
                          reason=check_text(reason, "reason", limit=1000))

    def is_filed(self, message_id: str, eml_sha256: str) -> bool:
        """Whether this email is on the record already (filed, or sent by tratos)."""
        return filed_key(message_id, eml_sha256) in self.filed

    def file_message(self, direction: str, *, message_id: str, sender: str, to: list[str] = (),
                     cc: list[str] = (), sent_at: datetime | None = None, subject: str = "",
                     evidence: list[Evidence], on: date, actor: str = "") -> ev.MessageReceived | ev.MessageSent:
        """File an email as evidence, once: `received` from the client, or `sent` by us."""
        if direction not in FILED:
            raise BadInput(f"an email is filed as received or sent, not {direction!r}")
        evidence = check_filed_evidence(evidence)
        message_id = check_header(message_id, "Message-ID")
        if self.is_filed(message_id, evidence[0].sha256):
            raise Refused(f"the email {message_id or evidence[0].sha256} is already on the record of {self.handle}")
        return self._emit(FILED[direction], on, actor, message_id=message_id,
                          sender=check_header(sender, "From"), to=[check_header(a, "To") for a in to],
                          cc=[check_header(a, "Cc") for a in cc], sent_at=sent_at,
                          subject=check_header(subject, "Subject"), evidence=evidence)
