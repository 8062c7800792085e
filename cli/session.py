"""What every command shares: output mode, where the store is, who the freelancer is."""

from __future__ import annotations

import json
import os
import re
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.adapters.home import IDENTITY_FILE, HomeAsFound
from domain.adapters.identity_turns import IdentityTurn
from domain.adapters.interruptions import saves

if TYPE_CHECKING:
    from collections.abc import Callable

    from domain.services.application import Tratos

IDENTITY_LIMIT = 1 << 20  # a few hundred bytes in practice


class Session:
    """Opened once per command; the Application is created only if the command needs it."""

    def __init__(self, *, as_json: bool = False, home: str | None = None,
                 database_url: str | None = None) -> None:
        self.as_json = as_json
        self._home = home
        self.database_url = database_url
        self._app: Tratos | None = None
        self._projecting: Any = None  # read models opened only to project what this command recorded
        self.recorded = False  # whether this command committed events (a failed confirmation is then a warning)
        # what a command that records in several saves (`mail import`) had recorded, said when a later save fails
        self.recorded_so_far: Callable[[], str] | None = None
        self._saved_before = saves()  # this process's saves before this command (`interruptions.saves`)
        self._saved: dict[str, str] = {}  # what its app saved (`Tratos.saved`), kept past `close`
        self.written: str | None = None  # the file a command that records nothing wrote (export, the book)
        self.refused = False  # the command did not succeed: the home is left as it was found (`close`)
        self._as_found: HomeAsFound | None = None  # the home before anything of this command touched it
        self._turn: IdentityTurn | None = None  # this command's turn on identity.json (ADR-84)

    @cached_property
    def home(self) -> Path:
        """--home, else $TRATOS_HOME, else the user data folder. Given but empty is bad input, not
        the default home: `--home "$DIR"` with DIR unset would record in another store than meant."""
        if self._home == "" or (self._home is None and os.environ.get("TRATOS_HOME") == ""):
            from domain.model.errors import BadInput

            raise BadInput("--home is empty (or TRATOS_HOME is set but empty): name the store's folder,"
                           " or leave it out for the default one")
        if self._home:
            home = Path(self._home)
        else:
            from domain.adapters.storage import default_home

            home = default_home()
        _usable(home)
        self._as_found = HomeAsFound.look(home)  # asked for before anything opens or makes it
        return home

    @cached_property
    def identity(self) -> dict[str, Any]:
        """The freelancer's identity from `tratos init` (empty before it).

        A damaged file (not JSON, not an object of texts, unreadable, a field holding what no
        tratos writes: cli/identity_fields.py) is one `error:` line naming what and saying how to
        write it again, never a JSONDecodeError or an Overflow, whichever command reads it first.
        """
        return self.checked_identity(self.identity_as_written())

    def checked_identity(self, identity: dict[str, Any]) -> dict[str, Any]:
        """`identity` if every field holds a value tratos writes; else the damaged-file refusal
        naming the field (also for what `identity invoicing` or `identity mail` is about to write)."""
        from cli.identity_fields import checked

        checked(identity, self.home / IDENTITY_FILE)
        return identity

    def identity_as_written(self) -> dict[str, Any]:
        """identity.json as an object of texts, its values not checked further: for the command
        that writes them again (`identity invoicing`), which checks what it writes."""
        from domain.adapters.files import read_regular
        from domain.model.errors import BadInput, Refused

        path = self.home / IDENTITY_FILE
        self._identity_turn().share()
        if not os.path.lexists(path):
            return {}
        try:  # a regular file, bounded: a FIFO or /dev/zero put in its place must not hang us
            value = json.loads(read_regular(path, IDENTITY_FILE, limit=IDENTITY_LIMIT).decode("utf-8"),
                               object_pairs_hook=_once_each)
        except BadInput as error:
            raise Refused(_damaged(path, str(error))) from None
        except RecursionError as error:  # "[[[[…" nested beyond the parser's depth
            raise Refused(_damaged(path, "nested too deeply")) from error
        except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            reason = getattr(error, "strerror", None) or " ".join(str(error).split())
            raise Refused(_damaged(path, reason)) from error
        if not isinstance(value, dict) or not all(isinstance(text, str) for text in value.values()):
            raise Refused(_damaged(path, "not an object of texts"))
        return value

    def changing_identity(self) -> None:
        """Called by a command that writes identity.json, before it reads it: no other command reads
        it until this one ends (`identity_turns`), so none acts on what this one replaces."""
        self._identity_turn().change()

    def _identity_turn(self) -> IdentityTurn:
        if self._turn is None:
            self._turn = IdentityTurn(self.home)
        return self._turn

    @property
    def currency(self) -> str:
        return self.identity.get("currency", "EUR")

    @property
    def lang(self) -> str:
        return self.identity.get("lang", "es")

    @property
    def actor(self) -> str:
        """Who records: identity.json's name, else (before `tratos init`) the account running tratos.

        Never empty: an event that says nobody recorded it is no record. The account's name comes
        from the system, not only from $USER, which a cron job or a container may not set."""
        import getpass

        try:
            account = getpass.getuser()
        except (KeyError, OSError):  # a uid with no account: a container's
            account = f"uid {os.getuid()}"
        return self.identity.get("name", "") or account

    def tax_profile(self) -> Any:
        """The invoicing settings of identity.json as a `TaxProfile`, or None without an identity."""
        from decimal import Decimal

        from cli.identity_fields import checked_for_invoices
        from domain.model.errors import BadInput
        from domain.model.values import Issuer, TaxProfile

        # as `identity invoicing` changed it, the tax id's and IBAN's check digits too (ADR-65)
        found = checked_for_invoices(self.identity, self.home / IDENTITY_FILE)
        if not found.get("name"):
            return None
        issuer = Issuer(name=found["name"], email=found.get("email", ""), tax_id=found.get("tax_id", ""),
                        address=found.get("address", ""), country=found.get("country", "ES"),
                        iban=found.get("iban", ""), payment_method=found.get("payment_method") or "bank transfer")
        settings = {key: found[key] for key in ("series", "corrective_series") if found.get(key)}
        try:
            return TaxProfile(issuer=issuer, vat_rate=Decimal(found.get("vat_rate", "21")),
                              withholding=Decimal(found.get("withholding", "0")), **settings)
        except BadInput as error:  # two fields that hold apart (the series both R): the file's, not typed
            from cli.identity_fields import damaged
            from domain.model.errors import Refused

            raise Refused(damaged(self.home / IDENTITY_FILE, str(error),
                                  "`tratos identity invoicing --series F --corrective-series R`")) from None

    def mail_settings(self) -> Any:
        """identity.json's mail settings (`MailSettings`), checked as `identity mail` checks them: what
        it would refuse (a From name with a line break, security `none` to a remote host) is the
        damaged-file line naming identity.json (exit 1), not bad input typed on this command."""
        from cli.identity_fields import damaged
        from domain.adapters.smtp import MailSettings
        from domain.model.errors import BadInput, Refused

        try:
            return MailSettings.from_identity(self.identity)
        except BadInput as error:
            raise Refused(damaged(self.home / IDENTITY_FILE, f"its mail settings: {error}",
                                  "`tratos identity mail --host HOST --user USER`")) from None

    @property
    def app(self) -> Tratos:
        if self._app is None:
            from cli.verifactu_signing import record_signing
            from domain.services.application import Tratos

            kwargs: dict[str, Any] = {"home": self.home, "actor": self.actor, "profile": self.tax_profile,
                                      "record_signer": lambda: record_signing(self)}
            if self.database_url:
                kwargs["database_url"] = self.database_url
            self._app = Tratos(**kwargs)
            self._app.after_recording(self._note_recorded)
            self._saved = self._app.saved
            self._app.after_recording(self._catch_up_read_side)
        return self._app

    @cached_property
    def models(self) -> Any:
        """The read models, caught up with the log before anything is read from them.

        An encrypted store's are in their own encrypted file, caught up the same way (ADR-57).
        The stream heads (ids, versions, digests only) are caught up beside the events.
        """
        from cli.output import warn
        from projections import ReadModels
        from projections.heads import StreamHeads

        models = ReadModels(self.app, warn=warn)  # damaged ones are thrown away and rebuilt (ADR-63)
        models.catch_up()
        StreamHeads(self.app).catch_up()
        return models

    def today(self) -> date:
        """Today's business date; TRATOS_TODAY pins it (tests, demos)."""
        from domain.adapters.clock import business_today

        return business_today()

    def closest_client(self, handle: str) -> str | None:
        """The existing handle most like a mistyped one (only called on the error path)."""
        import difflib

        try:
            handles = self.models.handles()
        except Exception:  # a suggestion must never replace the error it decorates
            return None
        matches = difflib.get_close_matches(handle, handles, n=1, cutoff=0.6)
        return matches[0] if matches else None

    def close(self) -> None:
        models = self.__dict__.pop("models", None)
        try:
            for opened in (models, self._projecting):
                if opened is not None:
                    opened.close()
        finally:
            self._projecting = None
            try:
                if self._app is not None:
                    self._app.close()
                    self._app = None
            finally:
                try:
                    self._leave_as_found()
                finally:
                    if self._turn is not None:
                        self._turn.release()

    def _leave_as_found(self) -> None:
        """A command that was refused and recorded nothing takes back the store it made: an empty
        store file (and its companions, the read models, the home folder it made) is not left in a
        new home (ADR-62). What holds an event, or another process has open, stays."""
        if self.refused and not self.recorded and self._as_found is not None:
            found, self._as_found = self._as_found, None
            found.restore()

    def _note_recorded(self) -> None:
        self.recorded = True

    def what_was_recorded(self) -> str | None:
        """What this command had recorded, as a failure after it says so ("it recorded acme: invoice
        issued", "200 emails were filed"), or None if it recorded nothing."""
        if not self.recorded and saves() == self._saved_before:
            return None
        if self.recorded_so_far is not None:
            return self.recorded_so_far()
        said = [f"{_words(stream)}: {_words(event_type)}" for stream, event_type in self._saved.items() if event_type]
        if not said:  # saved by import's own transaction
            return "it recorded part of it"
        return "it recorded " + ", ".join(said[:3]) + (f" and {len(said) - 3} more" if len(said) > 3 else "")

    def _catch_up_read_side(self) -> None:
        """After a command recorded, project what it recorded while its event classes are loaded.

        The Application calls this once the transaction is committed. The next `status` then
        finds its read models current and builds no pydantic model at all (ADR-16). Best
        effort: the events are saved already, and whatever is not projected here is projected
        by the next command that reads.
        """
        from cli.output import warn
        from projections import ReadModels
        from projections.heads import StreamHeads

        try:
            models = self.__dict__.get("models") or self._projecting
            if models is None:
                models = self._projecting = ReadModels(self.app, warn=warn)
            if models is not None:
                models.catch_up()
            heads = StreamHeads(self.app)
            try:
                heads.catch_up()
            finally:
                heads.close()
        except Exception:  # noqa: BLE001 - a failure here must not turn a recorded command into an error
            if os.environ.get("TRATOS_DEBUG") == "1":
                raise


def _damaged(path: Path, reason: str) -> str:
    from cli.identity_fields import damaged

    return damaged(path, reason)


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose every key is written once: `"name"` twice would take the last, unseen."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"its field {key!r} is written twice")
        found[key] = value
    return found


def _words(event_type: str) -> str:
    """A type's name in words: InvoiceIssued is "invoice issued", BillingRecords "billing records"."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", event_type).lower()


def _usable(home: Path) -> None:
    """A home the system will not even look into (a name longer than it takes, a folder this account
    may not enter) is a home named wrong: one line, exit 2, before any of its files is opened, not
    the OSError of whichever is opened first. One that does not exist yet is the caller's to make or
    refuse."""
    from domain.model.errors import BadInput

    for path in (home, home / IDENTITY_FILE):
        try:
            path.stat()
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as error:
            raise BadInput(f"the home {home} cannot be used: {error.strerror or error}") from None
