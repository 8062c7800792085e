"""The `tratos` console script: a lazy click group, so each command imports only what it needs."""

from __future__ import annotations

import errno
import importlib
import io
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from domain.adapters.library_internals import without_pydantic_plugins

without_pydantic_plugins()  # before anything imports pydantic

import click  # noqa: E402

from cli.options import given_once  # noqa: E402
from cli.session import Session  # noqa: E402
from domain.adapters.interruptions import stopped_as_interrupted  # noqa: E402

# command name -> (module, attribute, help section). Modules load only when run.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "init": ("cli.identity", "init", "Set up"),
    "identity": ("cli.identity", "identity", "Set up"),
    "client": ("cli.client", "client", "Record what happened"),
    "terms": ("cli.terms", "terms", "Record what happened"),
    "contract": ("cli.contract", "contract", "Record what happened"),
    "change": ("cli.change", "change", "Record what happened"),
    "mistake": ("cli.mistake", "mistake", "Record what happened"),
    "invoice": ("cli.invoice", "invoice", "Record what happened"),
    "payment": ("cli.payment", "payment", "Record what happened"),
    "hours": ("cli.hours", "hours", "Record what happened"),
    "note": ("cli.note", "note", "Record what happened"),
    "mail": ("cli.mail", "mail", "Record what happened"),
    "end": ("cli.end", "end", "Record what happened"),
    "status": ("cli.status", "status", "See where things stand"),
    "timeline": ("cli.status", "timeline", "See where things stand"),
    "lessons": ("cli.status", "lessons", "See where things stand"),
    "check": ("cli.check", "check", "See where things stand"),
    "remind": ("cli.remind", "remind", "Documents and proof"),
    "pdf": ("cli.pdf", "pdf", "Documents and proof"),
    "send": ("cli.send", "send", "Documents and proof"),
    "follow-up": ("cli.follow_up", "follow_up", "Documents and proof"),
    "calendar": ("cli.agenda", "calendar", "See where things stand"),
    "verify": ("cli.pdf", "verify", "Documents and proof"),
    "audit": ("cli.audit", "audit", "Documents and proof"),
    "verifactu": ("cli.verifactu", "verifactu", "Documents and proof"),
    "export": ("cli.transfer", "export", "Keep the store"),
    "import": ("cli.transfer", "import_", "Keep the store"),
    "rebuild": ("cli.rebuild", "rebuild", "Keep the store"),
    "demo": ("cli.demo", "demo", "Keep the store"),
}
SECTIONS = ("Set up", "Record what happened", "See where things stand", "Documents and proof",
            "Keep the store")


class LazyGroup(click.Group):
    """Loads a command's module on first use and lists commands by purpose in --help."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[name]
        try:
            command = getattr(importlib.import_module(module), attribute)
        except ModuleNotFoundError as missing:
            if missing.name != module:
                raise
            return _not_yet(name)
        from cli.options import refusing_empty

        return refusing_empty(command)  # every option, of every command: given empty is an error

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Also keeps the command's words (`client open acme …`) for the group's callback: a group
        takes no arguments among its options, so they are the end of `args`, the command's name
        first and then what click leaves in `ctx.args`."""
        given = list(args)
        after = super().parse_args(ctx, args)
        ctx.meta[WORDS] = given[len(given) - len(after) - 1:] if given else []
        return after

    def invoke(self, ctx: click.Context) -> object:
        from domain.model.errors import UnknownClient

        try:
            return super().invoke(ctx)
        except UnknownClient as error:
            raise _with_suggestion(ctx.obj, error) from error
        except Exception as error:
            if output_failed(error):
                raise  # the output, not the store: main() says what it means (recorded or not)
            from domain.adapters.storage import (
                StoreBusy,
                StoreFailure,
                said_after_recording,
                said_to_a_reader,
            )

            failure = error if isinstance(error, StoreFailure | StoreBusy) else _storage_failure(ctx.obj, error)
            if failure is None:
                raise
            session = ctx.obj if isinstance(ctx.obj, Session) else None
            if _reads_only(ctx.meta.get(WORDS, [])):
                failure = said_to_a_reader(failure)
            elif session is not None and session.recorded:  # saves before the failing one stay recorded
                failure = said_after_recording(failure, session.what_was_recorded())
            if failure is error:
                raise
            raise failure from error

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for section in SECTIONS:
            rows = []
            for name, (_, _, where) in COMMANDS.items():
                if where == section:
                    command = self.get_command(ctx, name)
                    rows.append((name, command.get_short_help_str(60) if command else ""))
            with formatter.section(section):
                formatter.write_dl(rows)


# What may be run on a home that does not exist yet, and so makes it: what starts a store (init, demo,
# import, a certificate adopted, a first client opened) and what needs no store (verify a PDF, make
# a key). Anything else on a missing home is a mistyped --home or TRATOS_HOME: said, nothing created.
STARTS_A_HOME = {("init",), ("demo",), ("import",), ("identity", "import"), ("client", "open"), ("verify",),
                 ("audit", "keygen")}


WORDS = "tratos.words"
# Commands that record nothing: a store failing under them is not "nothing was recorded".
READS_ONLY = {("status",), ("timeline",), ("lessons",), ("client", "list"), ("client", "show"), ("export",),
              ("audit", "verify"), ("identity", "show"), ("invoice", "book"), ("verify",), ("rebuild",)}


def _reads_only(words: list[str]) -> bool:
    return tuple(words[:1]) in READS_ONLY or tuple(words[:2]) in READS_ONLY


def _refuse_a_home_that_is_not_there(ctx: click.Context) -> None:
    """A SQLite store's home that is not there is made only by what starts one (`STARTS_A_HOME`)."""
    session, words = ctx.obj, ctx.meta.get(WORDS, [])
    if (not isinstance(session, Session) or session.database_url or not words
            or any(word in ("-h", "--help") for word in words)
            or tuple(words[:1]) in STARTS_A_HOME or tuple(words[:2]) in STARTS_A_HOME):
        return
    command = ctx.command.get_command(ctx, words[0]) if isinstance(ctx.command, click.Group) else None
    if command is None or getattr(command, "not_yet", False):
        return  # an unknown command, or one not in this version: said as such, whatever the home
    if not os.path.lexists(session.home):
        from domain.model.errors import BadInput

        raise BadInput(f"no tratos home at {session.home}: run `tratos init` there, or name the right one"
                       " with --home or TRATOS_HOME; nothing was created")


def _with_suggestion(session: Session | None, error: Exception) -> Exception:
    """An unknown client handle, plus the closest existing one if there is one."""
    from domain.model.errors import UnknownClient

    closest = session.closest_client(error.handle) if session and error.handle else None
    if not closest or closest == error.handle:
        return error
    return UnknownClient(f"no client {error.handle!r}; did you mean {closest!r}?", error.handle)


def _storage_failure(session: Session | None, error: Exception) -> Exception | None:
    """A storage error (full, read-only, locked, failing) as the one line that names the store, or None."""
    if session is None or isinstance(error, click.exceptions.ClickException | click.exceptions.Exit):
        return None
    from domain.adapters.storage import describe_store, storage_failure, store_folder

    return storage_failure(error, describe_store(session.home, session.database_url),
                           folder=store_folder(session.home, session.database_url))


def _not_yet(name: str) -> click.Command:
    def run() -> None:
        raise click.UsageError(f"`tratos {name}` is not available in this version yet")

    command = click.Command(name, callback=run, help="(not available yet)",
                            context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
    command.not_yet = True  # type: ignore[attr-defined]
    return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (stable snake_case keys).")
@click.option("--home", type=click.Path(file_okay=False), envvar="TRATOS_HOME",
              help="Folder of the store (default: your user data folder; env TRATOS_HOME).")
@click.option("--database-url", envvar="TRATOS_DATABASE_URL",
              help="postgresql://user:pass@host:port/db[?schema=NAME] for a shared store.")
@click.version_option(package_name="tratos", prog_name="tratos")
@click.pass_context
def tratos(ctx: click.Context, as_json: bool, home: str | None, database_url: str | None) -> None:
    """Keep every client relationship as a record nobody can quietly rewrite.

    \b
    Example:
        tratos init --name "Ana García" --email ana@example.com
        tratos client open acme --name "Acme Consulting SL"
    """
    _refuse_an_empty_database_url(ctx, database_url)
    ctx.obj = Session(as_json=as_json, home=home, database_url=database_url)
    ctx.call_on_close(ctx.obj.close)
    _refuse_a_home_that_is_not_there(ctx)


given_once(tratos)  # `--home A --home B`: which store was meant?


def _refuse_an_empty_database_url(ctx: click.Context, database_url: str | None) -> None:
    """An empty database URL is no default (ADR-74): `TRATOS_DATABASE_URL=$UNSET` would record into a
    private SQLite file instead of the shared database. click reads an empty variable as unset."""
    from click.core import ParameterSource

    from domain.model.errors import BadInput

    variable = os.environ.get("TRATOS_DATABASE_URL")
    if database_url is None and variable is not None and not variable.strip():
        given = "TRATOS_DATABASE_URL is set but empty"
    elif database_url is not None and not database_url.strip():
        typed = ctx.get_parameter_source("database_url") == ParameterSource.COMMANDLINE
        given = "--database-url is empty" if typed else "TRATOS_DATABASE_URL is set but empty"
    else:
        return
    raise BadInput(f"{given}: leave it out for the local store, or give postgresql://user:password@host:port/dbname")


COMPLETE_VAR = "_TRATOS_COMPLETE"


def main(argv: list[str] | None = None, *, process_ends: bool = False) -> None:
    """Run the CLI: errors become one `error:` line on stderr and an exit code. `process_ends`
    (the console script): no signal changes that exit code once it is decided."""
    from domain.model.errors import TratosError

    _replacing_what_cannot_be_shown()
    context: click.Context | None = None
    args: list[str] = []
    with _libraries_quiet():
        try:
            with stopped_as_interrupted(for_good=process_ends):  # SIGTERM, SIGHUP, …: cleaned up as Ctrl-C is
                args = _utf8_arguments(sys.argv[1:] if argv is None else argv)
                _utf8_environment()
                _complete_if_asked()
                # The context is kept (not `tratos.main`) so that when writing the output fails, the
                # session says whether the command had recorded already.
                with tratos.make_context("tratos", args) as context:
                    try:
                        code = tratos.invoke(context)
                    except BaseException as error:
                        _note_refused(context, error)
                        raise
                _flush_output()
        except click.exceptions.Exit as done:  # --help, --version, ctx.exit(n)
            code = done.exit_code
        except OSError as error:
            if not output_failed(error):  # a file no check named first: which, and why, still one line
                _fail(error, f"cannot use {error.filename}: {error.strerror}" if error.filename and error.strerror
                      else f"{type(error).__name__}: {error}", 1)
            _output_lost(error, context)
            code = 0
        except TratosError as error:
            _fail(error, str(error), error.exit_code)
        except (click.exceptions.Abort, EOFError, KeyboardInterrupt):
            _fail(None, _aborted(context), 1)
        except click.ClickException as error:
            _fail(error, _negative_number(error, args) or error.format_message(), 2)
        except ImportError as error:  # an installation missing a module tratos needs: say which, and how
            missing = getattr(error, "name", None) or str(error)
            _fail(error, f"this installation of tratos lacks the module {missing}, which it needs: install tratos"
                         " again (`make install`, or `pip install --force-reinstall tratos`)", 1)
        except Exception as error:  # a bug or an environment problem: still one line
            if _interrupted(error):
                _fail(None, _aborted(context), 1)
            _fail(error, f"{type(error).__name__}: {error}", 1)
    sys.exit(code if isinstance(code, int) else 0)


def _interrupted(error: BaseException) -> bool:
    """Whether `error` is a stop (Ctrl-C, an ending signal) that Python wrapped on its way: one
    arriving while a class is made is a RuntimeError "Error calling __set_name__" caused by it."""
    seen: set[int] = set()
    found: BaseException | None = error
    while found is not None and id(found) not in seen:
        if isinstance(found, KeyboardInterrupt):
            return True
        seen.add(id(found))
        found = found.__cause__ or found.__context__
    return False


# A number typed with a minus sign: an amount, hours, a quantity (-10, -1,5, -3h, -1:30, -10EUR, -€10).
_NEGATIVE = re.compile(r"-(?:[€$£¥₹₽]|[A-Za-z]{3})?\s*[0-9][0-9.,:' ]*\s*(?:h|%|/h|[A-Za-z]{3}|[€$£¥₹₽])?")


def _negative_number(error: click.ClickException, args: list[str]) -> str | None:
    """The line for a negative number typed as an argument, which click reads as short options
    ("No such option '-1'" for `payment record acme F-2026-001 -10`): said once here, for every
    command (ADR-65). An option's value (`--amount -100`) is its option's to judge, as before."""
    if not isinstance(error, click.exceptions.NoSuchOption):
        return None
    typed = next((arg for arg in args if arg.startswith(error.option_name) and _NEGATIVE.fullmatch(arg)), None)
    if typed is None:
        return None
    return f"{typed} is negative: amounts, hours and quantities are positive numbers"


def _note_refused(context: click.Context, error: BaseException) -> None:
    """A command that ends in an error leaves the home as it found it: its session, closed as the
    context ends, takes back an empty store it made (`Session.close`, ADR-62)."""
    if isinstance(error, click.exceptions.Exit) and not error.exit_code:
        return  # --help, --version: done
    if isinstance(context.obj, Session):
        context.obj.refused = True


def _complete_if_asked() -> None:
    """`_TRATOS_COMPLETE=bash_source tratos` (README): answer the shell's completion, then exit
    (what `click.Command.main` does first; the context is kept here instead, see `main`)."""
    instruction = os.environ.get(COMPLETE_VAR)
    if instruction:
        from click.shell_completion import shell_complete

        sys.exit(shell_complete(tratos, {}, "tratos", COMPLETE_VAR, instruction))


class _ClosedOutput(io.TextIOBase):
    """Standard output when the shell closed it (`tratos note acme x >&-`, Python then has none):
    every write fails as a full disk does, so the command's output is lost the same way."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def isatty(self) -> bool:
        return False


def _replacing_what_cannot_be_shown() -> None:
    """Output in an encoding that cannot hold a character (PYTHONIOENCODING=latin-1 and a €)
    shows a replacement for it instead of failing the command; a closed stdout fails its writes."""
    if sys.stdout is None:
        sys.stdout = _ClosedOutput()
    if sys.stderr is None:  # nowhere to say anything: the exit code still tells
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
    for stream in (sys.stdout, sys.stderr):
        with suppress(AttributeError, ValueError, OSError):  # not a text file of io's, or already written to
            stream.reconfigure(errors="replace")


def output_failed(error: BaseException) -> bool:
    """Whether `error` is this process's output failing (a full disk, a closed pipe).

    The write that failed is the innermost frame: click's `echo` writing to standard output, a
    verdict command's standard output passing it on, or main's last flush of it. (Retrying the
    flush cannot tell: a failed write drops its buffer.)
    """
    if not isinstance(error, OSError):
        return False
    innermost = error.__traceback__
    while innermost is not None and innermost.tb_next is not None:
        innermost = innermost.tb_next
    if innermost is None:
        return False
    from cli.output import WRITING  # a verdict command's standard output (`gives_verdict`)

    frame = innermost.tb_frame
    return frame.f_code in (_flush_output.__code__, _ClosedOutput.write.__code__, *WRITING) or (
        frame.f_code.co_name == "echo" and frame.f_locals.get("file") is sys.stdout)


def _flush_output() -> None:
    """What is still buffered fails here, inside main, not in the interpreter's last flush."""
    sys.stdout.flush()


def _aborted(context: click.Context | None) -> str:
    """Ctrl-C, or a signal that ends a command (ADR-86). What it saved before stays (a save is
    whole, and what it cites is kept): said, so that nobody records it again (ADR-88)."""
    session = context.obj if context is not None else None
    recorded = session.what_was_recorded() if isinstance(session, Session) else None
    return f"aborted after {recorded}; nothing more was done" if recorded else "aborted"


def _output_lost(error: OSError, context: click.Context | None) -> None:
    """The output could not be written. If the command recorded, it is done: saying `error:`
    would invite a retry that records twice, so it is a warning and exit 0. Else a closed pipe
    is the reader's choice (`tratos timeline acme | head -1`), quiet; anything else an error.

    Standard output then goes to the null device (Python's recipe for SIGPIPE), so the
    interpreter's last flush neither fails nor prints.
    """
    _silence_stdout()
    reason = error.strerror or str(error)
    session = context.obj if context is not None else None
    if isinstance(session, Session) and session.recorded:
        _say(f"warning: recorded, but its confirmation could not be written ({reason})")
        return
    if isinstance(error, BrokenPipeError):  # the reader left on purpose (`| head`): nothing to say
        sys.exit(0)
    written = session.written if isinstance(session, Session) else None
    done = f" ({written} was written whole)" if written else ""
    _fail(error, f"cannot write the output: {reason}{done}", 1)


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no file descriptor (in-process, the tests' streams)
        pass


def _debugging() -> bool:
    return os.environ.get("TRATOS_DEBUG") == "1"


@contextmanager
def _libraries_quiet() -> Iterator[None]:
    """Keep what libraries say to developers off stderr, which carries one line per error.

    pyHanko's import alone raises a CryptographyDeprecationWarning (DSA), and
    pyHanko, WeasyPrint and fontTools log through loggers with no handler, which
    Python prints on stderr. While a command runs, warnings are ignored and
    records without a handler of their own end in a NullHandler on the root
    logger; TRATOS_DEBUG=1 lets both through. Restored afterwards, so calling
    `main` in-process (the tests) leaves the caller's settings as they were.
    """
    if _debugging():
        yield
        return
    root = logging.getLogger()
    sink = logging.NullHandler()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        root.addHandler(sink)
        try:
            yield
        finally:
            root.removeHandler(sink)


def _utf8_arguments(args: list[str]) -> list[str]:
    """Arguments as UTF-8 text: bytes that are not (kept by Python as lone surrogates) are refused
    here, once, before a name, a note or a file name carries them into the store (ADR-26)."""
    from domain.model.errors import BadInput

    for arg in args:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            shown = arg.encode("utf-8", "surrogateescape").decode("ascii", "backslashreplace")
            raise BadInput(f"an argument is not UTF-8 text: '{shown}' (type it again, or rename the file"
                           " in UTF-8)") from None
    return args


def _utf8_environment() -> None:
    """The TRATOS_ variables as UTF-8 text, as the arguments (`_utf8_arguments`): a home, a database
    URL or a date in bytes that are not would otherwise reach the file system or the driver."""
    from domain.model.errors import BadInput

    for name, value in sorted(os.environ.items()):
        if not name.startswith("TRATOS_") or name == COMPLETE_VAR:
            continue
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadInput(f"the environment variable {name} is not UTF-8 text: set it again in UTF-8"
                           " (or unset it)") from None


def _fail(error: BaseException | None, message: str, code: int) -> None:
    if _debugging() and error is not None:
        import traceback

        traceback.print_exception(error)
    _say(f"error: {' '.join(str(message).split()) or 'failed'}")
    sys.exit(code)


def _say(line: str) -> None:
    """One line on stderr, escaped where it would not show as it is (cli/output.py `say`)."""
    from cli.output import say

    say(line)
