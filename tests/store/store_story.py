"""The demo story of issue 3 told through the Application, one command of each kind."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from domain.model.money import Money
from domain.model.values import Evidence, Installment, LateFee, Party, Scope, Terms
from domain.services.application import Recorded, Tratos

HANDLE = "acme"
# acme's details as they end the story: its CIF corrected, its country stated (ClientDetailsChanged)
ACME_NOW = Party(name="Acme Consulting SL", email="ops@acme.test", tax_id="B12345674", country="ES")
EVIDENCE = Evidence(sha256="ab" * 32, name="reply.eml", size=4096, media_type="message/rfc822")
SENT = {"to": ["ops@acme.test"], "subject": "Reminder", "message_id": "<1@example.com>",
        "sent_at": datetime(2026, 3, 15, 9, tzinfo=UTC), "server_reply": "250 2.0.0 Ok: queued as 4F1A2",
        "evidence": [EVIDENCE]}


def eur(amount: str | int) -> Money:
    return Money.of(amount, "EUR")


def open_and_sign(app: Tratos, handle: str = HANDLE, name: str = "Acme Consulting SL") -> list[Recorded]:
    """A client with terms and a two-month contract of 8000 EUR in force (K1)."""
    return [
        app.open_relationship(handle, Party(name=name, email="ops@acme.test", tax_id="B12345678"),
                              on=date(2026, 1, 5)),
        app.publish_terms(handle, Terms(rate=eur(60), payment_days=30, response_days=2,
                                        late_fee=LateFee(kind="statutory-eu"),
                                        confidentiality="Five years"), on=date(2026, 1, 5)),
        app.draft_contract(
            handle, title="Website redesign",
            scope=Scope(description="New website", deliverables=["Design", "Build"]),
            price=eur(8000), start=date(2026, 1, 15), end=date(2026, 3, 15),
            installments=[Installment(n=1, amount=eur(4000), due=date(2026, 1, 15), percent=Decimal(50)),
                          Installment(n=2, amount=eur(4000), due=date(2026, 2, 15), percent=Decimal(50))],
            hours_budget=Decimal(120), our_duties=["Weekly demo"], client_duties=["Answer within 2 days"],
            on=date(2026, 1, 8)),
        app.sign_contract(handle, party="us", signer="Ana Freelance", method="typed", on=date(2026, 1, 12)),
        app.sign_contract(handle, party="client", signer="Carlos", method="email", evidence=[EVIDENCE],
                          on=date(2026, 1, 13)),
    ]


def whole_story(app: Tratos) -> list[Recorded]:
    """Every command of the Application once at least; returns what each recorded."""
    h = HANDLE
    done = open_and_sign(app)
    done += [
        app.request_change(h, "Add a blog", requested_by="client", evidence=[EVIDENCE], on=date(2026, 1, 20)),
        app.quote_change(h, "C1", price=eur(600), hours=Decimal(10), days=5, on=date(2026, 1, 21)),
        app.approve_change(h, "C1", on=date(2026, 1, 22)),
        app.request_change(h, "Dark mode", requested_by="client", on=date(2026, 1, 23)),
        app.quote_change(h, "C2", price=eur(300), on=date(2026, 1, 24)),
        app.reject_change(h, "C2", on=date(2026, 1, 25)),
        app.request_change(h, "Podcast", requested_by="us", on=date(2026, 1, 26)),
        app.withdraw_change(h, "C3", on=date(2026, 1, 27)),
        app.report_mistake(h, "Wrong logo colour", reported_by="us", on=date(2026, 2, 1)),
        app.acknowledge_mistake(h, "M1", apology="Sorry", on=date(2026, 2, 1)),
        app.diagnose_mistake(h, "M1", fault="ours", cause="Old palette", category="branding",
                             on=date(2026, 2, 2)),
        app.propose_remedy(h, "M1", "Free rework", cost=eur(0), hours=Decimal(4), on=date(2026, 2, 2)),
        app.choose_remedy(h, "M1", "O1", agreed=True, on=date(2026, 2, 3)),
        app.resolve_mistake(h, "M1", on=date(2026, 2, 5)),
        app.record_lesson(h, "M1", "Check the brand guide before delivery", on=date(2026, 2, 5)),
        app.issue_invoice(h, installment=1, on=date(2026, 1, 15)),
        app.record_payment(h, "F-2026-001", eur(4000), on=date(2026, 2, 1)),
        app.issue_invoice(h, installment=2, on=date(2026, 2, 15)),
        app.log_hours(h, Decimal("3.5"), note="Blog templates", change_id="C1", on=date(2026, 2, 10)),
        app.record_note(h, "Invoice is in approval, they say", evidence=[EVIDENCE], on=date(2026, 3, 10)),
        app.schedule_follow_up(h, 1, remind_before=[3], remind_after=[1, 7], on=date(2026, 3, 11)),
        app.claim_follow_up(h, "F-2026-002", "before-3", on=date(2026, 3, 15)),
        app.send_follow_up(h, "F-2026-002", "before-3", scheduled_on=date(2026, 3, 14), tone="friendly",
                           on=date(2026, 3, 15), **SENT),
        app.mark_late(h, "F-2026-002", on=date(2026, 3, 18)),
        app.claim_follow_up(h, "F-2026-002", "after-1", on=date(2026, 3, 18)),
        app.fail_follow_up(h, "F-2026-002", "after-1", reason="550 5.1.1 User unknown", on=date(2026, 3, 18)),
        app.send_reminder(h, "F-2026-002", on=date(2026, 3, 20)),
        app.complete_contract(h, on=date(2026, 3, 25)),
        app.change_client_details(h, ACME_NOW, on=date(2026, 3, 25)),
    ]
    head = app.relationship(h)
    done += [
        app.issue_document(h, "dossier", sha256="cd" * 32, chain_version=head.version,
                           chain_digest=head.head_digest, lang="en", on=date(2026, 3, 26)),
        app.send_document(h, "dossier", on=date(2026, 3, 26), sent={
            "document_id": "", "document_sha256": "cd" * 32, "lang": "en",
            **(SENT | {"message_id": "<2@example.com>", "subject": "Dossier"})}),
        app.file_messages(h, [{"direction": "received", "message_id": "<3@acme.test>", "sender": "ops@acme.test",
                               "to": ["ana@example.com"], "cc": [], "sent_at": None, "subject": "Re: Dossier",
                               "evidence": [EVIDENCE.model_copy(update={"sha256": "3" * 64})]},
                              {"direction": "sent", "message_id": "", "sender": "ana@example.com",
                               "to": ["ops@acme.test"], "cc": [], "sent_at": None, "subject": "",
                               "evidence": [EVIDENCE.model_copy(update={"sha256": "4" * 64})]}],
                          on=date(2026, 3, 27))[0],
        app.end_relationship(h, reason="Project delivered", ended_by="us", on=date(2026, 3, 31)),
        app.correct_invoice(h, "F-2026-002", reason="A cent too much", amount=eur("-0.01"), on=date(2026, 3, 31)),
    ]
    head = app.notebook(h)  # a TSA's token over an anchor note naming the head (issue 23)
    done.append(app.timestamp_anchor(
        h, chain_version=head.version, chain_digest=head.head_digest, note_sha256="ab" * 32,
        token_sha256="ef" * 32, timestamped_at=datetime(2026, 4, 1, 9, 0, 0, 123456, tzinfo=UTC),
        authority="C=ES, O=Test TSA, CN=Test TSA Time Stamping", tsa_url="http://127.0.0.1/tsa",
        on=date(2026, 3, 31)))
    return done


def state_of(aggregate) -> dict:
    """An aggregate's folded state, without what only lives in memory."""
    return {k: v for k, v in vars(aggregate).items() if k not in ("_pending", "last_saved", "warnings")}
