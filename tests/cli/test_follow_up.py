"""`tratos follow-up`: the terms' schedule, each step sent exactly once, against a real SMTP server.

A year of 200 invoices with random payment dates, follow-up run once a day with the date
advanced, sends exactly the steps an independent computation here gives, none twice, none for an
invoice paid before its step; two processes running at once send each step once; a step whose
day passed while nothing ran is sent once, late, and says so.
"""

from __future__ import annotations

import email
import email.policy
import json
import random
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from backends import SCRIPT
from cli_support import copied, ok, run, store_rows

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for mail_server
from mail_server import PASSWORD, USER, MailServer  # noqa: E402

BEFORE, AFTER = (3,), (1, 7, 14, 30)
CLIENTS = [f"c{n:02d}" for n in range(10)]
START = date(2026, 1, 5)


def setup_steps(port: int | None = None) -> list[tuple[str, ...]]:
    steps = [("init", "--name", "Ana García", "--email", "ana@example.com")]
    for handle in CLIENTS:
        steps += [
            ("client", "open", handle, "--name", f"Client {handle}", "--email", f"billing@{handle}.test",
             "--on", "2026-01-02"),
            ("terms", "publish", handle, "--payment-days", "30", "--late-fee", "statutory-eu",
             "--remind-before", ",".join(map(str, BEFORE)), "--remind-after", ",".join(map(str, AFTER)),
             "--on", "2026-01-02"),
            ("contract", "draft", handle, "--title", "Retainer", "--scope", "Monthly work", "--price", "100000EUR",
             "--start", "2026-01-03", "--end", "2026-12-31", "--on", "2026-01-02"),
            ("contract", "sign", handle, "--by", "us", "--on", "2026-01-03"),
            ("contract", "sign", handle, "--by", "client", "--signer", "Boss", "--on", "2026-01-03"),
        ]
    return steps


@pytest.fixture
def clients(template, store, smtp: MailServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    with copied(template(store.backend, "scheduled", setup_steps()), store) as home:
        ok(home, "identity", "mail", "--host", "127.0.0.1", "--port", str(smtp.port), "--user", USER,
           "--trust", str(smtp.cert))
        yield home


def follow_up(home: Path, day: date, *args: str):
    return run(home, "--json", "follow-up", "--lang", "en", *args,
               env={"TRATOS_TODAY": day.isoformat(), "TRATOS_SMTP_PASSWORD": PASSWORD})


def sent_steps(home: Path) -> list[tuple[str, str]]:
    return [(event["about"], event["step"]) for _, _, topic, state in store_rows(home)
            if topic.endswith(":FollowUpSent") for event in [json.loads(state)]]


def issue(app, handle: str, on: date) -> str:
    from domain.model.money import Money

    recorded = app.issue_invoice(handle, on=on, amount=Money.of(1000, "EUR"), concept="Monthly work")
    return recorded.events[-1].invoice_number


def test_a_year_of_200_invoices_sends_exactly_the_scheduled_steps(clients: Path, smtp: MailServer, store) -> None:
    if store.backend == "postgres":  # 440 daily runs take minutes; each step once on it: test_two_runs_at_once
        pytest.skip("the year runs on SQLite; PostgreSQL runs the concurrent and the late-step tests")
    randomly = random.Random(2026)
    issued_on = sorted(START + timedelta(days=randomly.randrange(330)) for _ in range(200))
    plan = []  # (day issued, client, paid on or None)
    for day in issued_on:
        due = day + timedelta(days=30)
        paid = None if randomly.random() < 0.15 else due + timedelta(days=randomly.randrange(-20, 45))
        plan.append((day, randomly.choice(CLIENTS), max(paid, day) if paid else None))
    last_day = issued_on[-1] + timedelta(days=45)
    app = store.open(actor="Ana García")
    numbers: dict[int, tuple[str, str]] = {}
    try:
        day = START
        while day <= last_day:
            for n, (issued, handle, _) in enumerate(plan):
                if issued == day:
                    numbers[n] = (handle, issue(app, handle, day))
            for n, (_, handle, paid) in enumerate(plan):
                if paid == day:
                    from domain.model.money import Money

                    app.record_payment(handle, numbers[n][1], Money.of(1000, "EUR"), on=day)
            done = follow_up(clients, day)
            assert done.code == 0, done.stderr
            day += timedelta(days=1)
    finally:
        app.close()
    expected = set()  # the schedule, computed here from the plan alone
    for n, (issued, _, paid) in enumerate(plan):
        due = issued + timedelta(days=30)
        for step, on in [(f"before-{d}", due - timedelta(days=d)) for d in BEFORE] + \
                        [(f"after-{d}", due + timedelta(days=d)) for d in AFTER]:
            if on <= last_day and (paid is None or paid > on):
                expected.add((numbers[n][1], step))
    sent = sent_steps(clients)
    assert len(sent) == len(set(sent)), "a step was sent twice"
    assert set(sent) == expected
    assert len(smtp.received) == len(expected) > 300
    finals = [email.message_from_bytes(raw, policy=email.policy.default) for _, _, raw in smtp.received]
    finals = [m for m in finals if m["Subject"].startswith("Final notice")]
    assert len(finals) == sum(step == "after-30" for _, step in expected)
    body = finals[0].get_body(("plain",)).get_content()
    assert "Late-payment interest, 30 days at" in body and "Compensation for recovery costs: €40.00" in body


def _one_invoice_due(home: Path, store, issued: date) -> str:
    app = store.open(actor="Ana García")
    try:
        return issue(app, "c00", issued)
    finally:
        app.close()


def test_a_step_missed_while_nothing_ran_is_sent_once_late_and_says_so(clients: Path, smtp: MailServer,
                                                                       store) -> None:
    number = _one_invoice_due(clients, store, date(2026, 2, 1))  # due 2026-03-03
    shown = json.loads(follow_up(clients, date(2026, 3, 12)).stdout)
    assert [(s["about"], s["step"], s["days_late"]) for s in shown["sent"]] == [
        (number, "before-3", 12), (number, "after-1", 8), (number, "after-7", 2)]
    assert [s["tone"] for s in shown["sent"]] == ["friendly", "friendly", "firm"]
    bodies = [email.message_from_bytes(raw, policy=email.policy.default).get_body(("plain",)).get_content()
              for _, _, raw in smtp.received]
    assert "This message was due on 28 February 2026; it is sent late, on 12 March 2026." in bodies[0]
    again = json.loads(follow_up(clients, date(2026, 3, 12)).stdout)
    assert again["sent"] == [] and len(smtp.received) == 3
    assert sorted(sent_steps(clients)) == sorted([(number, "after-1"), (number, "after-7"), (number, "before-3")])
    shown = run(clients, "status", "c00", env={"TRATOS_TODAY": "2026-03-12"}).stdout
    assert [" ".join(line.split()) for line in shown.splitlines()][-4:] == [
        "on what to server's reply",
        f"2026-02-28 follow-up {number} before-3 (friendly) billing@c00.test {smtp.handler.reply}",
        f"2026-03-04 follow-up {number} after-1 (friendly) billing@c00.test {smtp.handler.reply}",
        f"2026-03-10 follow-up {number} after-7 (firm) billing@c00.test {smtp.handler.reply}"]


def test_a_step_the_server_refuses_is_released_and_sent_by_the_next_run(clients: Path, smtp: MailServer,
                                                                        store) -> None:
    number = _one_invoice_due(clients, store, date(2026, 2, 1))
    smtp.handler.refuse.add("billing@c00.test")
    before = len(store_rows(clients))
    failed = follow_up(clients, date(2026, 2, 28))
    assert failed.code == 1 and failed.stderr.startswith("error: 1 follow-up step(s) were not sent")
    assert len(failed.stderr.splitlines()) == 1
    kinds = [topic.rsplit(":", 1)[1] for _, _, topic, _ in store_rows(clients)[before:]]
    assert kinds == ["FollowUpClaimed", "FollowUpFailed"] and smtp.received == []
    smtp.handler.refuse.clear()
    sent = json.loads(follow_up(clients, date(2026, 2, 28)).stdout)["sent"]
    assert [(s["about"], s["step"]) for s in sent] == [(number, "before-3")]


def test_a_dry_run_lists_and_records_nothing(clients: Path, smtp: MailServer, store) -> None:
    number = _one_invoice_due(clients, store, date(2026, 2, 1))
    before = store_rows(clients)
    done = run(clients, "follow-up", "--dry-run", "--today", "2026-03-04",
               env={"TRATOS_TODAY": "2026-03-04"})
    assert done.code == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"due:     c00 {number} before-3 (friendly) (4 days late, due 2026-02-28)",
        f"due:     c00 {number} after-1 (friendly)",
        "Follow-up of 2026-03-04: 2 due, 0 skipped, 0 failed; nothing was sent or recorded"]
    assert store_rows(clients) == before and smtp.received == []


def test_two_runs_at_once_send_each_step_once(clients: Path, smtp: MailServer, store) -> None:
    app = store.open(actor="Ana García")
    try:
        numbers = [issue(app, handle, date(2026, 2, 1)) for handle in CLIENTS for _ in range(2)]
    finally:
        app.close()
    env = {**store.env(), "TRATOS_TODAY": "2026-03-20", "TRATOS_SMTP_PASSWORD": PASSWORD, "TRATOS_HOME": str(clients)}
    runs = [subprocess.Popen([str(SCRIPT), "--json", "follow-up", "--lang", "en"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [process.communicate(timeout=300) for process in runs]
    assert [process.returncode for process in runs] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    sent = sent_steps(clients)
    assert len(sent) == len(set(sent)) == len(numbers) * 4  # before-3, after-1, after-7, after-14
    assert sum(len(r["sent"]) for r in reports) == len(sent) == len(smtp.received)


def test_terms_refuse_a_bad_schedule(clients: Path) -> None:
    for args, message in [(("--remind-after", "1,x"), "is a list of days"),
                          (("--remind-after", "7,7"), "names a day twice"),
                          (("--remind-before", "400"), "days are 1 to 365")]:
        before = store_rows(clients)
        outcome = run(clients, "terms", "publish", "c00", *args)
        assert outcome.code == 2 and message in outcome.stderr and len(outcome.stderr_lines) == 1, outcome.stderr
        assert store_rows(clients) == before


def test_without_mail_settings_a_quiet_day_is_fine_and_a_busy_one_is_refused(template, store, tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with copied(template(store.backend, "scheduled", setup_steps()), store) as home:
        quiet = run(home, "follow-up", env={"TRATOS_TODAY": "2026-02-01"})
        assert (quiet.code, quiet.stdout) == (0, "Follow-up of 2026-02-01: 0 sent, 0 skipped, 0 failed\n")
        _one_invoice_due(home, store, date(2026, 2, 1))
        before = store_rows(home)
        busy = run(home, "follow-up", env={"TRATOS_TODAY": "2026-03-01"})
        assert busy.code == 1 and busy.stderr.startswith("error: no mail settings yet"), busy.stderr
        assert store_rows(home) == before
