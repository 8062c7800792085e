"""Where the event store lives, and how it is opened safely.

By default the store is one SQLite file in the tratos home folder, opened in
WAL mode with ``synchronous=FULL`` so that a command that returned is on disk
(ADR-9). ``TRATOS_DATABASE_URL=postgresql://user:pass@host:port/dbname[?schema=NAME]``
(or ``Tratos(database_url=...)``, which the CLI's ``--database-url`` passes)
selects eventsourcing's PostgreSQL persistence instead, in the given schema
(``public`` by default), which is created if it does not exist.

A server that cannot be reached, or refuses the login, is reported as one
plain line (`StoreUnavailable`, exit 2), never as a driver traceback; a URL
without the postgres extra installed says which extra to install (exit 2).

Everything tratos keeps in the home is its owner's alone: the home folder is
created 0700 and the SQLite file 0600 before SQLite opens it (its -wal and -shm
files take the database's mode), whatever the umask (ADR-30). A store file that
cannot be written is opened read-only, so it can still be verified and exported.

`storage_failure` is the one place a storage error is classified (ADR-31): a full
disk, a read-only store, a store locked by another process, or a concurrency
conflict (retried by the Application); full and read-only become one plain line,
exit 1, instead of a conflict or a driver message.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import re
import sqlite3
import stat
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit
from uuid import UUID

from eventsourcing.sqlite import (
    SQLiteAggregateRecorder,
    SQLiteApplicationRecorder,
    SQLiteConnectionPool,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteProcessRecorder,
)
from eventsourcing.utils import Environment, EnvType

from domain.adapters.files import PRIVATE, kind_of_file, narrow, private_folder
from domain.adapters.home import COMPANIONS, EVIDENCE_FOLDER, STORE_FILE
from domain.adapters.library_internals import replace_sqlite_pool, seal_sqlite_pool
from domain.adapters.stored_rows import CheckedRows
from domain.model.errors import BadInput, ConcurrencyConflict, TratosError

DATABASE_URL = "TRATOS_DATABASE_URL"
SQLITE_FILE = STORE_FILE  # the names of the home's files are home.py's
# SQLite's answer to a file that is not a database, as SQLCipher gives it for another key's file.
_NOT_A_DATABASE = 26
URL_FORM = "postgresql://user:password@host:port/dbname[?schema=NAME]"
# FULL: in WAL mode the log is fsynced at every commit, so an acknowledged
# command survives a power cut, not only a killed process (NORMAL would
# only sync at checkpoints). See ADR-9 for the measured cost.
SQLITE_SYNCHRONOUS = "FULL"
# Seconds to wait for the server before saying it cannot be reached.
CONNECT_TIMEOUT = 5
# Seconds a writer waits for its turn on a stream before going ahead optimistically.
LOCK_WAIT = 10
# Seconds a command waits, in all, for a store another process keeps locked (SQLite's busy timeout,
# and the bound on the Application's retries of a busy store); TRATOS_LOCK_TIMEOUT sets it (tests).
STORE_WAIT = 30
STORE_WAIT_VARIABLE = "TRATOS_LOCK_TIMEOUT"
# A schema tratos keeps a store in: lowercase, as PostgreSQL folds an unquoted name, so that `Demo1`
# is not a second store beside `demo1`; never PostgreSQL's own (pg_catalog, pg_toast, information_schema).
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


# eventsourcing.postgres, every connection waiting a bounded time for a lock (postgres_factory.py).
POSTGRES_FACTORY_TOPIC = "domain.adapters.postgres_factory:BoundedPostgresFactory"
POSTGRES_EXTRA = "PostgreSQL needs the postgres extra: pip install 'tratos[postgres]'"


class StoreUnavailable(BadInput):
    """The store cannot be opened: server unreachable, login refused, bad URL, no driver."""


class StoreFailure(TratosError):
    """The store cannot take what a command recorded (full, read-only, failing); nothing was recorded."""

    exit_code = 1


class StoreBusy(ConcurrencyConflict):
    """Another process kept the store locked longer than a command waits."""


# ------------------------------------------------------- storage errors, classified

FULL, READ_ONLY, BUSY, CONFLICT, FAILED = "full", "read-only", "busy", "conflict", "failed"
RETRIED = frozenset({BUSY, CONFLICT})  # worth another attempt: another writer will be done soon
# SQLite primary result codes (the low byte of an extended code).
_SQLITE_CODES = {13: FULL, 8: READ_ONLY, 3: READ_ONLY, 23: READ_ONLY, 5: BUSY, 6: BUSY}
_ERRNOS = {errno.ENOSPC: FULL, errno.EDQUOT: FULL, errno.EFBIG: FULL,
           errno.EROFS: READ_ONLY, errno.EACCES: READ_ONLY, errno.EPERM: READ_ONLY}
# PostgreSQL SQLSTATEs: class 53 is "insufficient resources" (53100 disk full: "could not extend file").
_SQLSTATES = {"53100": FULL, "25006": READ_ONLY, "42501": READ_ONLY, "55P03": BUSY,
              "40001": CONFLICT, "40P01": CONFLICT, "23505": CONFLICT}
_MESSAGES = ((FULL, ("database or disk is full", "could not extend file", "no space left on device",
                     "disk quota exceeded")),
             (READ_ONLY, ("readonly database", "read-only", "read only file system", "permission denied")),
             (BUSY, ("database is locked", "database table is locked", "busy", "lock timeout")))


def classify(error: BaseException) -> str | None:
    """What a storage error means, from the driver's code where there is one, else its message:
    FULL, READ_ONLY, BUSY, CONFLICT, FAILED (another database error), or None (not a storage error).

    eventsourcing wraps the driver's exception (sqlite3, psycopg) as `__cause__`; the chain is
    followed down to the first code it knows.
    """
    from eventsourcing.persistence import IntegrityError, PersistenceError

    chain = _chain(error)
    if not any(isinstance(found, PersistenceError | sqlite3.Error) or _from_psycopg(found)
               or _from_sqlcipher(found) for found in chain):
        return None  # an error of a file or of the code, not of the store
    for found in chain:
        code = getattr(found, "sqlite_errorcode", None)
        if (isinstance(found, sqlite3.Error) or _from_sqlcipher(found)) and isinstance(code, int) \
                and code & 0xFF in _SQLITE_CODES:
            return _SQLITE_CODES[code & 0xFF]
        sqlstate = getattr(found, "sqlstate", None)
        if isinstance(sqlstate, str) and (sqlstate in _SQLSTATES or sqlstate.startswith("53")):
            return _SQLSTATES.get(sqlstate, FULL)
        if isinstance(found, OSError) and found.errno in _ERRNOS:
            return _ERRNOS[found.errno]
    text = " ".join(str(found) for found in chain).lower()
    for meaning, phrases in _MESSAGES:
        if any(phrase in text for phrase in phrases):
            return meaning
    if any(isinstance(found, IntegrityError) for found in chain):
        return CONFLICT  # another writer took the version first
    return FAILED


def _from_psycopg(error: BaseException) -> bool:
    return type(error).__module__.startswith("psycopg")


def _from_sqlcipher(error: BaseException) -> bool:
    """An error of `sqlcipher3` (the read models of an encrypted store): SQLite's, by another module."""
    return type(error).__module__.startswith("sqlcipher3")


def storage_failure(error: BaseException, where: str, what: str = "the store", *,
                    folder: Path | None = None) -> TratosError | None:
    """The one-line error for a storage error that is not worth retrying, or None.

    Full and read-only stores say so (exit 1); another database error says what the driver said;
    a lock held too long or a conflict is `StoreBusy` / `ConcurrencyConflict` (exit 1). `what`
    names the database: the store, or an encrypted store's read models (ADR-63). `folder`: the
    folder of a SQLite file, whose disk is looked at when SQLite says "read-only" or fails
    otherwise: on a nearly full disk the store is opened read-only on purpose, and SQLite cannot
    make its journal or grow its log, so the cause is said as it is, full (ADR-31).
    """
    if isinstance(error, TratosError):
        return None
    meaning = classify(error)
    if meaning in (READ_ONLY, FAILED) and folder is not None and on_a_full_disk(folder):
        return full_disk(what, where)
    if meaning == FULL:
        return StoreFailure(f"{what} at {where} is full: nothing was recorded")
    if meaning == READ_ONLY:
        whom = " for this role" if _denied_to_the_role(error) else ""
        return StoreFailure(f"{what} at {where} is read-only{whom}: nothing was recorded")
    if meaning == BUSY:
        return StoreBusy(f"{what} at {where} stayed locked by another process: nothing was recorded,"
                         " try again")
    if meaning == CONFLICT:
        return ConcurrencyConflict(f"{what} at {where} kept changing under this command: nothing was"
                                   " recorded, try again")
    if meaning == FAILED:
        return StoreFailure(f"{what} at {where} failed: {reason_of(error)}{_size_limit(error)}; nothing was recorded")
    return None


_SQLITE_IOERR = 10


def _size_limit(error: BaseException) -> str:
    """What to add to SQLite's "disk I/O error" when this process may write files of a limited size
    (`ulimit -f`): SQLite says EFBIG so, growing its log or its -shm file, and the limit is the cause
    to look at first."""
    if not any(isinstance(found, sqlite3.Error) and (getattr(found, "sqlite_errorcode", 0) or 0) & 0xFF == _SQLITE_IOERR
               for found in _chain(error)):
        return ""
    try:
        import resource

        limit, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    except (ImportError, OSError, ValueError):
        return ""
    if limit == resource.RLIM_INFINITY:
        return ""
    return f" (with a file-size limit of {max(limit // 1024, 1)} KB set: `ulimit -f`)"


def _denied_to_the_role(error: BaseException) -> bool:
    """PostgreSQL refused a privilege this role was not granted (42501: SELECT only, say)."""
    return any(_from_psycopg(found) and getattr(found, "sqlstate", None) == "42501" for found in _chain(error))


def said_to_a_reader(failure: TratosError) -> TratosError:
    """`failure` as a command that records nothing says it: without "nothing was recorded", which
    would make a reader think something was being recorded ("is read-only", "failed: REASON")."""
    import re

    message = re.sub(r"(: |; )nothing was recorded(, )?", lambda m: ": " if m.group(2) else "", str(failure))
    return type(failure)(message)


def said_after_recording(failure: TratosError, recorded: str | None = None) -> TratosError:
    """`failure` of a command that had recorded before it failed (a later batch of `mail import`):
    not "nothing was recorded", which would hide what was, but what was and that nothing more was.
    `recorded` says what ("200 emails were filed"); else what was recorded is said to stay."""
    import re

    before = f"{recorded} before it" if recorded else "what was recorded before it stays"
    message = re.sub(r"nothing was recorded", lambda _: f"{before}; nothing more was recorded", str(failure))
    return type(failure)(message)


def describe_store(home: Path | str, database_url: str | None = None) -> str:
    """Where a store is, as messages name it: the SQLite file, or the PostgreSQL database (no password)."""
    url = database_url or os.environ.get(DATABASE_URL)
    if url:
        try:
            return PostgresLocation.parse(url).description
        except StoreUnavailable:
            return redact(url)
    return str(Path(home) / SQLITE_FILE)


def writable(path: Path) -> bool:
    """Whether this process may write the store file (False on a read-only file system too)."""
    return os.access(path, os.W_OK)


# ---------------------------------------------------------------- SQLite


# Prepared statements each SQLite connection keeps. eventsourcing opens its connections with
# `cached_statements=True`, a cache of one statement: every query but the last was compiled again
# each time, a rebuild's statements of many rows as much as a lookup (ADR-19). Set through
# `library_internals.replace_sqlite_pool`, eventsourcing having no setting for it.
STATEMENT_CACHE = 256


def reopen_durably(datastore: SQLiteDatastore) -> None:
    """Have `datastore` open its connections with our synchronous level and statement cache: the
    store's, and the scratch read models' of time travel (no WAL there; the level changes nothing).
    """
    replace_sqlite_pool(datastore, statement_cache=STATEMENT_CACHE, synchronous=SQLITE_SYNCHRONOUS)


class CheckedSQLiteAggregateRecorder(CheckedRows, SQLiteAggregateRecorder):
    pass


class CheckedSQLiteApplicationRecorder(CheckedRows, SQLiteApplicationRecorder):
    pass


class CheckedSQLiteProcessRecorder(CheckedRows, SQLiteProcessRecorder):
    pass


class DurableSQLiteFactory(SQLiteFactory):
    """`eventsourcing.sqlite` with every connection opened by `reopen_durably`, and recorders that
    select records only (`stored_rows.CheckedRows`: a row damaged by hand is refused naming it)."""

    aggregate_recorder_class = CheckedSQLiteAggregateRecorder
    application_recorder_class = CheckedSQLiteApplicationRecorder
    process_recorder_class = CheckedSQLiteProcessRecorder

    def __init__(self, env: Environment | EnvType | None):
        super().__init__(env)
        reopen_durably(self.datastore)  # no connection is opened before first use


SQLITE_FACTORY_TOPIC = f"{__name__}:DurableSQLiteFactory"


class ReadModelsInTheWay(TratosError):
    """Something tratos never makes (a folder, a FIFO, a link, a device) where an encrypted store's
    read models belong: not opened, not removed; the user moves it (ADR-63)."""

    exit_code = 1


class ReadModelsFile:
    """An encrypted store's read models on disk: `read-models.sqlite` and its -wal and -shm, a cache
    of the log that tratos may throw away and make again at any time (ADR-57, ADR-63)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def files(self) -> tuple[Path, ...]:
        return (self.path, *(self.path.with_name(self.path.name + tail) for tail in ("-wal", "-shm")))

    def check_kind(self) -> None:
        """Refuse, without opening anything, what is not a regular file of ours at these names: a
        FIFO would block SQLite, a link would be followed to a device or to another file."""
        for path in self.files:
            try:
                found = os.lstat(path)
            except FileNotFoundError:
                continue
            except OSError as error:
                raise ReadModelsInTheWay(f"cannot look at the read models {path}: {error.strerror}") from error
            if not stat.S_ISREG(found.st_mode):
                raise ReadModelsInTheWay(
                    f"{path} is {_kind_of(path, found.st_mode)}, not the read models tratos keeps there:"
                    " move it out of the way and run the command again (they are rebuilt from the log)")

    def verdict(self, key: bytes) -> tuple[str, str]:
        """Whether the file opens with `key` and reads as a database: (OURS | NONE | FOREIGN |
        DAMAGED, why). FOREIGN: not a database for this key (another key's, not a database at
        all, a header overwritten); DAMAGED: it opens, but SQLite finds it malformed or cannot read
        it; NONE: no file yet, or a reason opening it again will report (locked, full, not ours
        to read)."""
        self.check_kind()
        try:
            if self.path.stat().st_size == 0:
                return NONE, ""
        except FileNotFoundError:
            return NONE, ""
        import sqlcipher3.dbapi2 as sqlcipher

        try:
            connection = sqlcipher.connect(str(self.path), isolation_level=None)
        except sqlcipher.Error as error:
            return NONE, reason_of(error)
        try:
            connection.execute("PRAGMA cipher_log_level = NONE")
            connection.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError as error:
            return read_model_damage(error), reason_of(error)
        finally:
            connection.close()
        return OURS, ""

    def discard(self) -> None:
        """Remove the file and its -wal and -shm (regular files only: `check_kind` first)."""
        self.check_kind()
        try:
            for path in self.files:
                with suppress(FileNotFoundError):
                    path.unlink()
        except OSError as error:
            raise StoreFailure(f"the read models {self.path} are damaged and cannot be removed:"
                               f" {error.strerror}; remove them and run the command again") from error


OURS, NONE, FOREIGN, DAMAGED = "ours", "none", "foreign", "damaged"
# Opening the read models' file to make it: a link or a FIFO swapped in since it was looked at is
# neither followed nor waited on (POSIX flags; 0 where the system has none).
_NOT_FOLLOWED = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)


def read_model_damage(error: BaseException) -> str:
    """What an error of the read models' SQLCipher database says of the file: FOREIGN (not a
    database for this key), DAMAGED (malformed, unreadable, not as tratos made it), or NONE (the
    machine's: full, read-only, locked), as `classify` reads the driver's code."""
    if not from_read_models(error):
        return NONE
    meaning = classify(error)
    if meaning in (FULL, READ_ONLY, BUSY) or meaning is None:
        return NONE
    for found in _chain(error):
        code = getattr(found, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF == _NOT_A_DATABASE:
            return FOREIGN
    return DAMAGED


def from_read_models(error: BaseException) -> bool:
    """Whether `error` comes from an encrypted store's read models (`sqlcipher3`: nothing else uses it)."""
    return any(_from_sqlcipher(found) for found in _chain(error))


def _chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and len(chain) < 8 and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    return chain


def _kind_of(path: Path, mode: int) -> str:
    """What a non-regular file is, as people say it (a link: where it points)."""
    if stat.S_ISLNK(mode):
        try:
            return f"a symbolic link (to {os.readlink(path)})"
        except OSError:
            return "a symbolic link"
    return kind_of_file(mode)


def sealed_datastore(path: Path, key: bytes, lock_timeout: int, *,
                     check: bool = True) -> tuple[SQLiteDatastore, str]:
    """The SQLCipher database at `path`, encrypted whole with `key` (32 raw bytes): every page,
    its WAL and its -shm included. Made private (0600 in a 0700 folder) before SQLCipher opens it.

    What it holds is derived from the log and rebuilt from it (ADR-63): something else than a
    regular file there is refused (`ReadModelsInTheWay`); a file that does not open with `key`
    (left by a store re-encrypted with another key, or not a database at all) is removed and made
    again, empty, and so is one that SQLite finds damaged: the second value says why it was (""
    when it was not, or was not ours). Its connections commit with `synchronous=NORMAL`: a power
    cut can only lose the last commits, rows and position together, which the next catch-up
    re-applies. `check=False`: the file was checked by the process that asks (a rebuild's helper).
    """
    place = ReadModelsFile(path)
    removed = ""
    try:
        private_folder(path.parent)
        if check:
            verdict, why = place.verdict(key)
            if verdict in (FOREIGN, DAMAGED):
                place.discard()
                removed = why if verdict == DAMAGED else ""
        place.check_kind()
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | _NOT_FOLLOWED, PRIVATE))
    except OSError as error:
        raise StoreUnavailable(f"cannot open the read models {path}: {error.strerror}") from error
    for made in place.files:
        narrow(made)
    datastore = SQLiteDatastore(str(path), lock_timeout=lock_timeout, single_row_tracking=True)
    seal_sqlite_pool(datastore, key=key, statement_cache=STATEMENT_CACHE, synchronous="NORMAL")
    return datastore, removed


# ------------------------------------------------ a role that may only read (ADR-75)


def made_already(datastore: Any, tables: Iterable[str]) -> bool:
    """Whether the CREATE … IF NOT EXISTS statements of `tables` are to be left out: on PostgreSQL,
    by a role that may not create in the store's schema, when every one of them is there already.

    PostgreSQL checks the schema's CREATE privilege before it looks whether a table exists, so
    IF NOT EXISTS alone refuses a role given SELECT only (an accountant, an auditor) as it opens
    the store. A role that may create runs them as ever (asked once per connection pool); SQLite
    always does (its read-only file is opened with `mode=ro`, ADR-31).
    """
    schema = getattr(datastore, "schema", None)
    if isinstance(datastore, SQLiteDatastore) or not isinstance(schema, str):
        return False
    if getattr(datastore, _MAY_CREATE, False):
        return False
    names = list(tables)
    with datastore.transaction(commit=False) as cursor:
        row = cursor.execute(_MADE_ALREADY, (schema, schema, names)).fetchone()
    may_create, found = (row["may_create"], row["found"]) if isinstance(row, Mapping) else row
    if may_create:
        setattr(datastore, _MAY_CREATE, True)
        return False
    return bool(found)


_MAY_CREATE = "tratos_may_create"  # remembered on the datastore: the pool's role does not change
_MADE_ALREADY = ("SELECT has_schema_privilege(%s, 'CREATE') AS may_create,"
                 " coalesce(bool_and(to_regclass(format('%%I.%%I', %s::text, name)) IS NOT NULL), false) AS found"
                 " FROM unnest(%s::text[]) AS name")


def read_side_behind(error: BaseException, location: Any) -> TratosError | None:
    """The one line for read models (or stream heads) a reader cannot bring up to date, because
    the store is read-only for it (`error`, raised by their first write): which role may do it.
    None for any other error, and for an encrypted store's own read-models file (ADR-63)."""
    if isinstance(error, TratosError) or classify(error) != READ_ONLY or from_read_models(error):
        return None
    where = getattr(location, "description", "") or "this store"
    if getattr(location, "full", False):  # opened read-only for want of space, not of permission
        return StoreFailure(f"the read models of the store at {where} are behind its log and the disk holding it"
                            f" is full (less than {FULL_MARGIN // 1024} KB free): free some space on it, then run"
                            " this again")
    if getattr(location, "postgres", None):
        return StoreFailure(f"the read models of the store at {where} are behind its log and this role may"
                            " only read it: have a role that may write run any command (`tratos status`)"
                            " or `tratos rebuild`, then run this again")
    return StoreFailure(f"the read models of the store at {where} are behind its log and the store is"
                        " read-only here: run any command (`tratos status`) or `tratos rebuild` where it"
                        " may be written, then run this again")


@contextmanager
def catching_up(location: Any) -> Iterator[None]:
    """Around the writes of a read side catching up with the log: `read_side_behind`'s line."""
    try:
        yield
    except Exception as error:
        behind = read_side_behind(error, location)
        if behind is None:
            raise
        raise behind from error


# ------------------------------------------------------------ PostgreSQL


def _schema(value: str) -> str:
    """`?schema=NAME`'s name, if tratos may keep a store there (ADR-65); else one line saying why."""
    if value.startswith("pg_") or value == "information_schema":
        raise StoreUnavailable(f"invalid schema name {value!r}: schemas named pg_… and information_schema are"
                               " PostgreSQL's own; name one of yours (created on first use)")
    if not _IDENTIFIER.fullmatch(value):
        lower = value.lower()
        hint = (f" (write {lower!r}: PostgreSQL reads unquoted names in lowercase, and {value!r} would be a"
                " second store beside it)" if lower != value and _IDENTIFIER.fullmatch(lower) else "")
        raise StoreUnavailable(f"invalid schema name {value!r}: use lowercase letters, digits and underscores,"
                               f" starting with a letter, at most 63 characters{hint}")
    return value


@dataclass(frozen=True)
class PostgresLocation:
    """A PostgreSQL store parsed from a database URL (the password never shows in messages)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str = field(default="", repr=False)
    schema: str = ""

    @classmethod
    def parse(cls, url: str) -> PostgresLocation:
        try:
            parts = urlsplit(url.strip())
        except ValueError as error:  # "Invalid IPv6 URL": a bracket never closed
            raise StoreUnavailable(f"the database URL {redact(url)!r} cannot be read ({error}):"
                                   f" expected {URL_FORM}") from None
        if parts.scheme not in ("postgresql", "postgres"):
            raise StoreUnavailable(f"unsupported database URL {redact(url)!r}: expected {URL_FORM}")
        userinfo, _, hostport = parts.netloc.rpartition("@")
        user, _, password = userinfo.partition(":")
        host, port = _host_port(hostport, url)
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise StoreUnavailable(f"the database URL {redact(url)!r} names no database: expected {URL_FORM}")
        schema = ""
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if key != "schema":
                raise StoreUnavailable(
                    f"unknown option {key!r} in the database URL: only ?schema=NAME is understood"
                    " (libpq settings such as PGSSLMODE can be set as environment variables)")
            if schema:
                raise StoreUnavailable(f"the database URL {redact(url)!r} names its schema twice: give ?schema=NAME once")
            schema = _schema(value)
        return cls(host=host, port=port, dbname=dbname, user=unquote(user),
                   password=unquote(password), schema=schema)

    @property
    def description(self) -> str:
        """The store as messages name it: `PostgreSQL database 'x' at host:port`."""
        return f"PostgreSQL database {self.dbname!r} at {self.where}"

    @property
    def where(self) -> str:
        """`host:port` as people say it (`local socket:5432` without a host)."""
        host = self.host or "local socket"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    @property
    def secret(self) -> str:
        """The URL's password, else $PGPASSWORD (libpq would skip it once a password is passed);
        empty lets libpq read ~/.pgpass."""
        return self.password or os.environ.get("PGPASSWORD", "")

    def settings(self) -> dict[str, str]:
        """eventsourcing.postgres environment keys; a CLI process needs one connection."""
        return {
            "PERSISTENCE_MODULE": POSTGRES_FACTORY_TOPIC,
            "POSTGRES_DBNAME": self.dbname,
            "POSTGRES_HOST": self.host,
            "POSTGRES_PORT": str(self.port),
            "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.secret,
            "POSTGRES_SCHEMA": self.schema,
            "POSTGRES_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": "2",
        }

    def connect_kwargs(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port, "dbname": self.dbname,
                "user": self.user, "password": self.secret}

    def connect(self) -> Any:
        """Fail fast with a plain line if the server is not usable; create the schema if needed.

        This one connection (a few ms on a LAN) is opened before eventsourcing's pool, whose
        own failures only surface as a timeout without the reason; it then stays open to hold
        the store's advisory locks (`AdvisoryLocks`).
        """
        import psycopg

        try:
            connection = psycopg.connect(**self.connect_kwargs(), connect_timeout=CONNECT_TIMEOUT,
                                         autocommit=True)
        except psycopg.Error as error:
            raise self.unavailable(error) from error
        try:
            if self.schema:
                self._create_schema(connection)
            connection.execute(f"SET lock_timeout = '{LOCK_WAIT}s'")
        except psycopg.Error as error:
            connection.close()
            raise self.unavailable(error) from error
        except BaseException:
            connection.close()
            raise
        return connection

    def _create_schema(self, connection: Any) -> None:
        import psycopg
        from psycopg import sql

        found = connection.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,))
        if found.fetchone():
            return
        try:
            connection.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema)))
        except (psycopg.errors.DuplicateSchema, psycopg.errors.UniqueViolation):
            pass  # another process created it at the same moment
        except psycopg.Error as error:
            raise StoreUnavailable(
                f"cannot create schema {self.schema!r} in PostgreSQL database {self.dbname!r}"
                f" at {self.where}: {reason_of(error)}") from error

    def unavailable(self, error: BaseException) -> StoreUnavailable:
        reason = reason_of(error)
        if "FATAL" in str(error):  # the server answered and said no
            return StoreUnavailable(f"PostgreSQL at {self.where} refused the connection: {reason}")
        if _is_connection_error(error):
            return StoreUnavailable(f"cannot reach PostgreSQL at {self.where}: {reason}")
        return StoreUnavailable(
            f"cannot open the store in PostgreSQL database {self.dbname!r} at {self.where}: {reason}")


def _is_connection_error(error: BaseException) -> bool:
    import psycopg
    from eventsourcing.persistence import InterfaceError, OperationalError

    return isinstance(error, psycopg.OperationalError | OperationalError | InterfaceError)


def _host_port(hostport: str, url: str) -> tuple[str, int]:
    if hostport.startswith("["):  # [::1]:5432
        host, _, rest = hostport[1:].partition("]")
        port_text = rest.removeprefix(":")
    else:
        host, _, port_text = hostport.partition(":")
    try:
        port = int(port_text) if port_text else 5432
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise StoreUnavailable(f"invalid port {port_text!r} in the database URL {redact(url)!r}")
    host = unquote(host)
    for name in host.split(","):  # libpq takes several hosts, tried in turn
        _check_host(name, url)
    return host, port


def _check_host(name: str, url: str) -> None:
    """A host name the resolver can be asked about, else one line: the resolver's codec (IDNA) refuses
    an empty label (`a..b`), one longer than 63 characters, a character no name may hold (U+FFFF),
    and would say so as a UnicodeError out of the driver."""
    import ipaddress

    if not name or name.startswith("/"):  # the default host, a Unix-socket folder
        return
    with suppress(ValueError):
        ipaddress.ip_address(name)
        return
    try:
        name.encode("idna")
    except UnicodeError:
        raise StoreUnavailable(f"invalid host {name!r} in the database URL {redact(url)!r}: a host name is"
                               " labels of 1 to 63 characters (letters, digits, hyphens) separated by"
                               " dots") from None


def reason_of(error: BaseException) -> str:
    """The useful part of a driver message: 'connection refused', 'role "x" does not exist'."""
    text = str(error).strip() or type(error).__name__
    for line in text.splitlines():
        if "failed: " in line:
            text = line.rsplit("failed: ", 1)[1]
            break
    else:
        text = text.splitlines()[0]
    text = re.sub(r"^(FATAL|ERROR):\s+", "", text.strip())
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        text = text[0].lower() + text[1:]
    return text


def redact(url: str) -> str:
    """The URL with its password replaced by ***."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


# ------------------------------------------------------ writers take turns


class StreamLocks:
    """Writers of one stream take turns instead of racing.

    Every command reads a stream, decides and appends; two processes doing that
    at once on one stream make one of them fail the version check, re-read and
    re-decide. Under load (several processes on one client, or everyone on the
    invoice series) those retries waste most of the work, so writers first queue
    on a per-stream lock that the operating system or the server releases when a
    process dies. The lock is only an optimisation: the optimistic version check
    stays the guarantee, and a writer that cannot get its turn within LOCK_WAIT
    seconds goes ahead and relies on it. This base class takes no locks.
    """

    @contextmanager
    def hold(self, stream: UUID) -> Iterator[None]:
        yield

    @contextmanager
    def opening(self) -> Iterator[None]:
        """Held while the Application creates its tables (concurrent DDL can fail on PostgreSQL)."""
        yield

    def close(self) -> None:
        pass


def _lock_key(stream: UUID | str) -> int:
    """A signed 64-bit key for a stream (PostgreSQL advisory locks take bigint)."""
    return int.from_bytes(UUID(str(stream)).bytes[:8], "big", signed=True)


# The byte of the locks file every process that has the store open holds a shared lock on, for as
# long as it has it open: past every stream's byte (40 bits). `unused_store` asks for it alone.
OPEN_BYTE = 1 << 40


class FileRangeLocks(StreamLocks):
    """SQLite: one byte of `tratos.sqlite-locks` per stream, locked with fcntl (POSIX record lock);
    and `OPEN_BYTE`, held shared from before SQLite opens the store until it is closed."""

    def __init__(self, path: Path) -> None:
        import fcntl

        self._fcntl = fcntl
        self._fd: int | None = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        with suppress(OSError):  # a file system without record locks: the store is then never taken as unused
            fcntl.lockf(self._fd, fcntl.LOCK_SH, 1, OPEN_BYTE)

    @contextmanager
    def hold(self, stream: UUID) -> Iterator[None]:
        offset = _lock_key(stream) & 0xFF_FFFF_FFFF  # 40 bits: a valid offset everywhere
        acquired = self._acquire(offset)
        try:
            yield
        finally:
            if acquired and self._fd is not None:
                self._fcntl.lockf(self._fd, self._fcntl.LOCK_UN, 1, offset)

    def _acquire(self, offset: int) -> bool:
        # fcntl cannot wait with a timeout, so poll with a short jittered sleep.
        deadline, pause = time.monotonic() + LOCK_WAIT, 0.001
        while self._fd is not None:
            try:
                self._fcntl.lockf(self._fd, self._fcntl.LOCK_EX | self._fcntl.LOCK_NB, 1, offset)
                return True
            except OSError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(random.uniform(pause / 2, pause))
                pause = min(pause * 2, 0.004)
        return False

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # releases every lock this process holds on the file
            self._fd = None


@contextmanager
def unused_store(database: Path) -> Iterator[bool]:
    """Whether no other process has the SQLite store at `database` open, held true for the block:
    another one opening it meanwhile waits (ADR-62: a refused command removes the store it made only
    then). False when it cannot be told (no fcntl, no locks file, a lock refused)."""
    try:
        import fcntl
    except ImportError:
        yield False
        return
    try:
        descriptor = os.open(database.with_name(database.name + "-locks"), os.O_RDWR)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, OPEN_BYTE)
        except OSError:
            yield False
            return
        yield True
    finally:
        os.close(descriptor)


class AdvisoryLocks(StreamLocks):
    """PostgreSQL: session advisory locks on one dedicated connection (waiting at most LOCK_WAIT)."""

    def __init__(self, connection: Any, schema: str) -> None:
        self._connection = connection
        digest = hashlib.sha256(f"tratos-open:{schema}".encode()).digest()
        self._opening_key = int.from_bytes(digest[:8], "big", signed=True)

    def _lock(self, key: int) -> bool:
        import psycopg

        try:
            self._connection.execute("SELECT pg_advisory_lock(%s)", (key,))
        except psycopg.Error:  # waited LOCK_WAIT (lock_timeout), or the connection is gone
            return False
        return True

    def _unlock(self, key: int) -> None:
        import psycopg

        with suppress(psycopg.Error):  # a lost session has released its locks already
            self._connection.execute("SELECT pg_advisory_unlock(%s)", (key,))

    @contextmanager
    def hold(self, stream: UUID) -> Iterator[None]:
        key = _lock_key(stream)
        acquired = self._lock(key)
        try:
            yield
        finally:
            if acquired:
                self._unlock(key)

    @contextmanager
    def opening(self) -> Iterator[None]:
        acquired = self._lock(self._opening_key)
        try:
            yield
        finally:
            if acquired:
                self._unlock(self._opening_key)

    def close(self) -> None:
        self._connection.close()


# --------------------------------------------------------------- choosing


@dataclass(frozen=True)
class StoreLocation:
    """The persistence settings a Tratos Application is opened with."""

    settings: dict[str, str]
    postgres: PostgresLocation | None = None
    read_only: bool = False  # a SQLite file this process may not write, opened with ?mode=ro
    full: bool = False  # ... because the disk holding it is full: a write is refused as "full"

    @property
    def description(self) -> str:
        """The store as messages name it: the SQLite file or the PostgreSQL database."""
        if self.postgres:
            return self.postgres.description
        name = self.settings.get("SQLITE_DBNAME", "")
        return unquote(name.removeprefix("file:").split("?")[0]) if name.startswith("file:") else name

    def failure(self, error: BaseException) -> TratosError | None:
        """`storage_failure` for this store (a write refused on a full disk's store is "full")."""
        if self.full and classify(error) in (READ_ONLY, FAILED):
            return full_disk("the store", self.description)
        folder = None if self.postgres else Path(self.description).parent
        return storage_failure(error, self.description, folder=folder)

    def stream_locks(self) -> StreamLocks:
        """Connect (PostgreSQL: fail fast with a plain line) and return the store's stream locks."""
        if self.postgres:
            return AdvisoryLocks(self.postgres.connect(), self.postgres.schema or "public")
        if self.read_only:
            return StreamLocks()  # nothing is written through a read-only store: no turns to take
        module = self.settings.get("PERSISTENCE_MODULE", "")
        db_name = self.settings.get("SQLITE_DBNAME", "")
        if "sqlite" in module.lower() and db_name and not SQLiteConnectionPool.detect_memory_mode(db_name):
            try:
                return FileRangeLocks(Path(db_name.removeprefix("file:").split("?")[0] + "-locks"))
            except ImportError:  # no fcntl (Windows): optimistic concurrency alone
                pass
            except OSError as error:
                raise StoreUnavailable(f"cannot open the store {db_name}: {error.strerror}") from error
        return StreamLocks()

    def unavailable(self, error: BaseException) -> TratosError:
        failure = self.failure(error)
        if failure is not None and classify(error) in (FULL, READ_ONLY, BUSY):
            return failure  # the store opened, but could not set itself up (or waited too long): say why
        if self.postgres:
            return self.postgres.unavailable(error)
        return StoreUnavailable(f"cannot open the store {self.settings.get('SQLITE_DBNAME', '')}:"
                                f" {reason_of(error)}")


def store_wait(env: Mapping[str, str] | None = None) -> int:
    """Seconds a command waits for a store another process keeps locked: $TRATOS_LOCK_TIMEOUT
    (whole seconds, 1 to 3600; SQLite's busy timeout is whole seconds), else STORE_WAIT."""
    raw = (env or {}).get(STORE_WAIT_VARIABLE, os.environ.get(STORE_WAIT_VARIABLE))
    if raw is None:
        return STORE_WAIT
    if not raw:  # set but empty: a script's unset variable, not "the default" (ADR-38)
        raise StoreUnavailable(f"{STORE_WAIT_VARIABLE} is set but empty: give it seconds (1 to 3600) or unset it")
    if not (re.fullmatch(r"[0-9]{1,4}", raw) and 1 <= int(raw) <= 3600):
        raise StoreUnavailable(f"{STORE_WAIT_VARIABLE}={raw!r} is not a number of seconds from 1 to 3600")
    return int(raw)


def default_home() -> Path:
    """Where the store lives: $TRATOS_HOME, else the user data dir."""
    if os.environ.get("TRATOS_HOME"):
        return Path(os.environ["TRATOS_HOME"])
    from platformdirs import user_data_dir

    return Path(user_data_dir("tratos", appauthor=False))


def locate_store(home: Path, env: Mapping[str, str] | None = None,
                 database_url: str | None = None) -> StoreLocation:
    """PostgreSQL if a database URL is given (argument, env, then $TRATOS_DATABASE_URL), else SQLite.

    An empty TRATOS_DATABASE_URL in `env` means SQLite whatever the process environment says.

    Explicit `env` entries win over the derived settings, so a caller can still
    pass raw eventsourcing keys (its own PERSISTENCE_MODULE, POSTGRES_* keys...);
    plain `eventsourcing.sqlite` is upgraded to the durable factory.
    """
    explicit = dict(env or {})
    url = database_url or explicit.get(DATABASE_URL, os.environ.get(DATABASE_URL))
    if url:
        postgres = PostgresLocation.parse(url)
        _require_postgres_driver()
        # eventsourcing waits for its table lock without end unless told (POSTGRES_LOCK_TIMEOUT 0)
        waits = {"POSTGRES_LOCK_TIMEOUT": str(store_wait(env))}
        return StoreLocation({**postgres.settings(), **waits, **explicit}, postgres)
    module = (explicit.get("PERSISTENCE_MODULE") or os.environ.get("PERSISTENCE_MODULE")
              or SQLITE_FACTORY_TOPIC)
    if module == "eventsourcing.sqlite":
        module = SQLITE_FACTORY_TOPIC  # always with our synchronous level
    settings = {"SQLITE_LOCK_TIMEOUT": str(store_wait(env)), **explicit, "PERSISTENCE_MODULE": module}
    if "sqlite" in module.lower() and "SQLITE_DBNAME" not in settings:
        database = Path(home) / SQLITE_FILE
        full = database.exists() and nearly_full(database.parent)
        read_only = database.exists() and (full or not writable(database))
        if read_only:
            settings["SQLITE_DBNAME"] = _read_only_uri(database, full=full)
        else:
            _private_sqlite_file(Path(home), database)
            settings["SQLITE_DBNAME"] = str(database)
        return StoreLocation(settings, read_only=read_only, full=full)
    if "sqlite" in module.lower():
        try:
            home.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise StoreUnavailable(f"cannot create the store folder {home}: {error.strerror}") from error
    return StoreLocation(settings)


def _require_postgres_driver() -> None:
    """A PostgreSQL store needs psycopg, which only the postgres extra installs."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise StoreUnavailable(POSTGRES_EXTRA) from None


def _private_sqlite_file(home: Path, database: Path) -> None:
    """The home (0700) and an empty store file (0600) made before SQLite opens it, so the store and
    its -wal and -shm files (created with the database's mode) are private whatever the umask; an
    existing store of an older tratos is narrowed to its owner."""
    try:
        private_folder(home)
        os.close(os.open(database, os.O_RDWR | os.O_CREAT, PRIVATE))
    except OSError as error:
        raise StoreUnavailable(f"cannot create the store {database}: {error.strerror}") from error
    for path in (database, *(database.with_name(database.name + tail) for tail in COMPANIONS),
                 home / EVIDENCE_FOLDER):  # the evidence folder too: the home itself is left as it is (ADR-30)
        narrow(path)


def _read_only_uri(database: Path, *, full: bool = False) -> str:
    """SQLite's URI for a store this process may only read. In a folder it may not write either (or
    on a full disk), with no -wal file left, `immutable=1` lets SQLite open it without creating its
    -shm file."""
    uri = f"file:{quote(str(database.absolute()))}?mode=ro"
    log = database.with_name(database.name + "-wal")
    if (full or not os.access(database.parent, os.W_OK)) and not log.exists():
        uri += "&immutable=1"
    return uri


# Below this much free space SQLite cannot be relied on to make its -shm file or grow its log: it
# says "disk I/O error", and even a reader fails. The store is then opened read-only, so it can
# still be read, verified and exported to another disk, and a write is said to be refused as full.
FULL_MARGIN = 256 << 10


def full_disk(what: str, where: str) -> StoreFailure:
    """A store (or read models) refused a write because the disk holding it is (nearly) full."""
    return StoreFailure(f"{what} at {where} is full (the disk holding it has less than {FULL_MARGIN // 1024} KB"
                        " free): nothing was recorded")


def on_a_full_disk(folder: Path) -> bool:
    """Whether a SQLite file in `folder` is refused writes for want of space, not of permission:
    the disk is nearly full (`nearly_full`), and the folder is one this process may write (a
    read-only mount, which may show no space free, or a folder not ours, stays read-only)."""
    return nearly_full(folder) and os.access(folder, os.W_OK)


def store_folder(home: Path | str, database_url: str | None = None) -> Path | None:
    """The folder of the SQLite store in `home`, or None for a PostgreSQL store (its disk is the server's)."""
    return None if database_url or os.environ.get(DATABASE_URL) else Path(home)


def nearly_full(folder: Path) -> bool:
    """Whether the disk holding `folder` has less than FULL_MARGIN free (False if it cannot say)."""
    import shutil

    try:
        return shutil.disk_usage(folder).free < FULL_MARGIN
    except OSError:
        return False
