"""Options and arguments many commands share, so every command behaves alike."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from datetime import date
from typing import Any

import click

from cli.session import Session

pass_session = click.make_pass_decorator(Session)


class Count(click.IntRange):
    """A whole number in a range, written with the digits 0-9 and nothing else (ADR-26).

    Python's `int` also reads "1_0", "+30", "-0" and " 30 "; a count is digits only, so what is
    stored is what was typed.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            import re

            from cli.notation import plain
            from domain.model.errors import BadInput

            try:
                plain(value, "a number")
            except BadInput as error:
                self.fail(str(error), param, ctx)
            if re.fullmatch(r"[0-9]{10,}", value):  # digits, but more than any range here admits
                self.fail(f"{value} is too large" + (f": at most {self.max}" if self.max is not None else ""),
                          param, ctx)
            if not re.fullmatch(r"[0-9]{1,9}", value):
                self.fail(f"not a whole number written with the digits 0-9: {value!r}", param, ctx)
        return super().convert(value, param, ctx)


def on_option(function: Callable) -> Callable:
    """--on DATE: the business date of what is recorded (default: today)."""
    return click.option("--on", "on", metavar="DATE", default=None,
                        help="Business date: 2026-01-15, today or yesterday (default today).")(function)


def evidence_option(function: Callable) -> Callable:
    return click.option("--evidence", "evidence", multiple=True, metavar="FILE",
                        help="A file that proves it (email .eml, screenshot, PDF); repeatable.")(function)


def contract_option(function: Callable | None = None, *, default: str = "the one in force, else the latest"
                    ) -> Callable:
    """--contract K1: which contract of the client; by default the one a command means (ADR-70)."""
    def option(function: Callable) -> Callable:
        return click.option("--contract", "contract_id", metavar="K1",
                            help=f"Which contract (default: {default}).")(function)
    return option if function is None else option(function)


def handle_argument(function: Callable) -> Callable:
    return click.argument("handle", metavar="CLIENT", shell_complete=_complete_handles)(function)


def _complete_handles(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[str]:
    """Tab completion of client handles, from the store named by --home (or the default one)."""
    root = ctx.find_root().params
    session = Session(home=root.get("home"), database_url=root.get("database_url"))
    if not session.database_url and not (session.home / "tratos.sqlite").exists():
        return []  # no store yet: completing must not create one
    try:
        return [h for h in session.models.handles() if h.startswith(incomplete)]
    except Exception:  # completion must never print a traceback into the shell
        return []
    finally:
        session.close()


def business_date(session: Session, text: str | None) -> date:
    """The date of what is recorded: today by default, never after today (ADR-26).

    A record says what has happened. Planned dates have fields of their own (a contract's
    --start and --end, its installments, an invoice's --due), which this does not read.
    """
    from cli.notation import parse_date

    today = session.today()
    day = today if text is None else parse_date(text, today)
    if day > today:
        from domain.model.errors import Refused

        raise Refused(f"{day} is after today ({today} on this machine): record what has happened, on the"
                       " day it happened; if this machine's date is wrong, correct its clock")
    return day


def as_of_date(session: Session, text: str | None) -> date | None:
    """The day a reading command shows things as they stood (or will stand: a read records nothing)."""
    from cli.notation import parse_date

    return None if text is None else parse_date(text, session.today())


@contextmanager
def kept_evidence(session: Session, paths: tuple[str, ...]) -> Any:
    """Keep the --evidence files for a command; if the command is refused, take back the ones it added."""
    if not paths:
        yield []
        return
    from domain.adapters.evidence import EvidenceFolder, gather

    _not_the_homes_files(session, paths)
    files = gather(paths)  # described in a stream now, copied in a stream when kept
    with EvidenceFolder.of(session.home).keeping(files):
        yield [file.evidence for file in files]


def _not_the_homes_files(session: Session, paths: tuple[str, ...]) -> None:
    """The home's own files are no evidence (ADR-62's list): the signing key or the store would go
    into the permanent record and every export of it. Evidence kept already may be cited again."""
    from domain.adapters.home import EVIDENCE_FOLDER, own_file
    from domain.model.errors import BadInput
    from domain.model.values import visible

    for path in paths:
        own = own_file(path, session.home)
        if own is not None and own.path.name != EVIDENCE_FOLDER:
            raise BadInput(f"cannot keep {visible(path)} as evidence: it is {own.what} ({visible(str(own.path))}),"
                           " one of the tratos home's own files; nothing was recorded")


def not_empty(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A click callback: an option given with an empty value is an error, never "leave it unset"
    (ADR-38); a default (even "") is not given, so it passes."""
    from click.core import ParameterSource

    if ctx.get_parameter_source(param.name) not in (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT):
        return value
    values = value if isinstance(value, tuple) else (value,)
    if any(isinstance(v, str) and not v.strip() for v in values):
        from domain.model.errors import BadInput

        if isinstance(param, click.Argument):  # a file's name: "" would be read as the folder "."
            raise BadInput(f"{(param.metavar or param.name).strip('[].')} is empty: name a file")
        flag = max(getattr(param, "opts", None) or [f"--{param.name}"], key=len)  # --output, not -o
        raise BadInput(f"{flag} is empty: give it a value, or leave the option out")
    return value


def refusing_empty(command: click.Command) -> click.Command:
    """`command` (and, for a group, every command in it) with every option that may be left out
    refusing an empty value (`not_empty`), so that no option added later can forget it (ADR-54),
    a FILE argument given empty too (ADR-74), and an option given twice (`given_once`).
    An option's own callback runs after the check. A required option is never "not given": its
    value is checked by what reads it ("contract title is empty")."""
    if getattr(command, "_refusing_empty", False):
        return command
    for param in command.params:
        if (isinstance(param, click.Option) and not param.is_flag and not param.required
                and param.callback is not not_empty):
            param.callback = _also_not_empty(param.callback)
        elif isinstance(param, click.Argument) and (param.metavar or "").lstrip("[").startswith("FILE"):
            param.callback = _also_not_empty(param.callback)  # "" would be read as the folder "."
    given_once(command)
    command._refusing_empty = True  # type: ignore[attr-defined]
    for sub in getattr(command, "commands", {}).values():
        refusing_empty(sub)
    return command


def given_once(command: click.Command) -> None:
    """An option given twice where it holds one value is a usage error (exit 2), not the last one
    winning: `--agreed --not-agreed` (ADR-64), `--amount 5 --amount 5000` or `--on` twice (ADR-70).
    The same side of a switch twice says one thing and is that side. Read by click's own parser
    before the command's (`--on=D`, `-oFILE` and a value that looks like an option as click reads
    them); a parse that fails is left to the command's, which says why."""
    once = {p for p in command.params if isinstance(p, click.Option) and not p.multiple and not p.count}
    if not once:
        return
    parse_args = command.parse_args

    def checked(ctx: click.Context, args: list[str]) -> list[str]:
        if not ctx.resilient_parsing:
            try:
                _, _, order = command.make_parser(ctx).parse_args(args=list(args))
            except click.UsageError:
                order = []
            for param in once:
                problem = _given_twice(param, args) if order.count(param) > 1 else ""
                if problem:
                    raise click.UsageError(problem, ctx)
        return parse_args(ctx, args)

    command.parse_args = checked  # type: ignore[method-assign]


def _given_twice(param: click.Option, args: list[str]) -> str:
    """What is wrong with `param` given more than once in `args`, or "" (one side of a switch)."""
    names = max(param.opts, key=len)
    if not param.is_flag:
        return f"{names} is given twice: give it once"
    typed = [word.partition("=")[0] for word in args]
    on = next((w for w in typed if w in param.opts), None)
    off = next((w for w in typed if w in param.secondary_opts), None)
    if on and off:
        return f"{on} and {off} contradict each other: give one of them"
    return ""


def _also_not_empty(callback: Callable | None) -> Callable:
    def checked(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        value = not_empty(ctx, param, value)
        return value if callback is None else callback(ctx, param, value)

    return checked
