"""The text policy (ADR-26) and contact details: rules on plain strings, no pydantic model.

Split from values.py so that what reads identity.json in every command (cli/identity_fields.py)
checks a name, an email or an address as the model does, without building a model (ADR-16, ADR-65).
"""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from domain.model.errors import BadInput

MAX_TEXT = 5000
# One text policy (ADR-26). Never, in any text: control characters (C0, DEL, C1) but a multi-line
# text's newlines and tabs; bidirectional overrides, embeddings, isolates and marks, which make a
# legal name or a clause read otherwise than it is stored ("Trojan Source"); lone surrogates, which
# are bytes that were not UTF-8. A single-line text (names, titles, contact details) has no line
# breaks of any kind either.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile(r"[\n\t\u2028\u2029]")
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Noncharacters (U+FDD0-U+FDEF and the last two code points of every plane, U+FFFE, U+FFFF, ...):
# Unicode keeps them for a program's own use, never for interchange. XML cannot hold U+FFFE and
# U+FFFF (an invoice's Factur-X, a Verifactu record, a PDF's metadata), an X.509 name none of
# them: a text with one would be recorded and then break every document that prints it.
_NONCHARACTER = re.compile("[\ufdd0-\ufdef" + "".join(
    f"{chr(plane << 16 | 0xfffe)}{chr(plane << 16 | 0xffff)}" for plane in range(17)) + "]")
# Format characters (Unicode category Cf) draw nothing: a zero-width space, a word joiner or a
# byte-order mark makes "Acme" and "Ac\u200bme" two names that look one. Refused in every text,
# but for the joiners (ZWNJ, ZWJ) between two characters that are not ASCII, where Persian, Indic
# scripts and emoji sequences (a woman and a laptop joined into one sign) need them.
_JOINERS = "\u200c\u200d"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
# What surrounds an address, not what is in one: a display name's brackets, a list's separators,
# quotes (refused since ADR-79; recorded ones are read as they were).
_AROUND_AN_ADDRESS = re.compile(r'[<>(),;:"\[\]\\]')
# What every tratos has refused in a text since 0.1 (C0 controls but newline and tab, and DEL).
# Re-deciding a recorded text (import) asks no more of it: see `texts_as_recorded`.
_CONTROL_SINCE_0_1 = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_AS_RECORDED: ContextVar[bool] = ContextVar("texts_as_recorded", default=False)


@contextmanager
def texts_as_recorded() -> Iterator[None]:
    """Within, `check_text` applies only the rules every version had, not the later ADR-26 ones.

    A text recorded before the policy of ADR-26 (a tab in a signer's name, a bidi mark in a
    note) was accepted by the tratos that wrote it; re-deciding it on import must not refuse
    the store for it. Trimming, emptiness, the length limits and the 0.1 control characters
    still hold, and what is typed always meets the whole policy.
    """
    token = _AS_RECORDED.set(True)
    try:
        yield
    finally:
        _AS_RECORDED.reset(token)

def as_recorded() -> bool:
    """Whether a command is re-deciding a recorded event (import), not deciding a new one."""
    return _AS_RECORDED.get()



def check_text(value: str, what: str, *, required: bool = True, limit: int = MAX_TEXT,
               multiline: bool = False) -> str:
    """A human text: trimmed, not empty, not endless, shown as it is stored (the policy above)."""
    given = value or ""
    value = given.strip()
    if required and not value:
        raise BadInput(f"{what} is empty")
    if _AS_RECORDED.get():
        if _CONTROL_SINCE_0_1.search(value):
            raise BadInput(f"{what} contains control characters")
    else:
        if given and not value:  # given blank is not the same as not given: a typo, or a variable unset
            raise BadInput(f"{what} is blank: give it, or leave the option out")
        _check_policy(value, what, multiline)
    if len(value) > limit:
        raise BadInput(f"{what} is {len(value)} characters long; the limit is {limit}")
    return value


def check_actor(actor: str) -> str:
    """Who records: the name every event carries (identity.json's), a single-line text or none."""
    if actor:
        check_text(actor, "your name (the actor of what is recorded; mend it with `tratos init --force`)",
                   limit=200)
    return actor


def _check_policy(value: str, what: str, multiline: bool) -> None:
    """The characters of ADR-26's text policy (above)."""
    if _SURROGATE.search(value):
        raise BadInput(f"{what} is not UTF-8 text: type it again, or convert the file it came from")
    if _CONTROL.search(value):
        raise BadInput(f"{what} contains control characters")
    if not multiline and _LINE_BREAK.search(value):
        raise BadInput(f"{what} is one line: it cannot contain line breaks or tabs")
    if not _FIRST_POLICY.get() and _NONCHARACTER.search(value):
        raise BadInput(f"{what} contains U+{ord(_NONCHARACTER.search(value)[0]):04X}, a noncharacter, which no"
                       " document can hold: type it again without it")
    if _BIDI.search(value):
        raise BadInput(f"{what} contains a bidirectional control character (U+{ord(_BIDI.search(value)[0]):04X}),"
                       " which would show it otherwise than it is recorded")
    invisible = _invisible(value)
    if invisible is not None:
        import unicodedata

        if (value[0] == invisible and unicodedata.category(invisible).startswith("M")
                and not _SELECTOR.match(invisible) and not _IGNORABLE.match(invisible)):
            raise BadInput(f"{what} starts with a combining mark (U+{ord(invisible):04X}), which has no letter"
                           " to show on: type the letter first")
        raise BadInput(f"{what} contains an invisible formatting character (U+{ord(invisible):04X}), which would"
                       " show it otherwise than it is recorded: type it again without it")


def noncharacter_in(value: Any) -> str | None:
    """The first noncharacter in any text of `value` (a text, a model, a list or a mapping of them),
    or None: for what was recorded before the policy refused them (an import), which a new
    invoice would carry into its XML."""
    if isinstance(value, str):
        found = _NONCHARACTER.search(value)
        return found[0] if found else None
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ()
    return next((found for found in map(noncharacter_in, items) if found is not None), None)


def _invisible(value: str) -> str | None:
    """The first character of `value` that draws nothing where it stands (see `_hidden`)."""
    return next((char for n, char in enumerate(value)  # line breaks are the one-line rule's (a note may have them)
                 if not char.isascii() and not _LINE_BREAK.match(char) and _hidden(value, n)), None)


def _joinable(char: str) -> bool:
    return not char.isascii() and not char.isspace()


# Characters that draw nothing but are not format characters (ADR-54): the Unicode default-ignorable
# code points outside Cf (the combining grapheme joiner, the Hangul fillers, Khmer's inherent vowels,
# the Mongolian and generic variation selectors, the ranges kept for future ones), and two that draw
# a blank: the braille pattern with no dots and the object replacement character. A legal name
# "\u3164" is blank on every document; "Acme\ufe0f" looks like "Acme".
_IGNORABLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164\ufe00-\ufe0f\uffa0"
                        "\ufff0-\ufff8\ufffc\U0001bca0-\U0001bca3\U000e0000-\U000e0fff]")
# Variation selectors choose how the character before them is drawn: an emoji's colour form
# (U+2764 U+FE0F), an ideograph's variant (U+E0100-E01EF), a Mongolian letter's form. After such
# a character they are spelling; after ASCII, or alone, they hide.
_SELECTOR = re.compile("[\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Not re-decided on import even for the events held to the whole policy (ADR-41): the stores written
# before ADR-54 may hold them (see `texts_of_the_first_policy`).
_FIRST_POLICY: ContextVar[bool] = ContextVar("texts_of_the_first_policy", default=False)


@contextmanager
def texts_of_the_first_policy() -> Iterator[None]:
    """Within, `check_text` applies ADR-26's policy as it was first written, without the invisible
    characters ADR-54 added (the fillers, a leading combining mark): for re-deciding the events
    held to the whole policy (ADR-41), which a tratos before ADR-54 may have recorded with them."""
    token = _FIRST_POLICY.set(True)
    try:
        yield
    finally:
        _FIRST_POLICY.reset(token)


def visible(text: str, *, laid_out: bool = False) -> str:
    """`text` as one line a terminal shows as it is: every character the text policy refuses in a
    one-line text (controls, line breaks, bidirectional and invisible characters, lone
    surrogates) written as its escape (\\u202e, \\x1b). For what tratos prints but did not check:
    a certificate's subject, a PDF's fields, an email's headers, every `error:` line, and every
    recorded text a table, a sentence or a document shows (ADR-73), which an import may have
    brought in as an older tratos recorded it.

    `laid_out`: for a document's HTML, which lays text out itself (ADR-73): a newline or a tab is
    kept, as the white space HTML makes of it; U+2028 and U+2029, which break a line there too,
    are escaped with the rest."""
    if text.isascii() and text.isprintable():  # most texts: nothing to escape, found in C
        return text
    return "".join(_escaped(char) if _hidden(text, n) and not (laid_out and char in "\n\t") else char
                   for n, char in enumerate(text))


def _hidden(text: str, n: int) -> bool:
    """Whether `text[n]` would not show as it is stored: a control, a line break, a bidirectional
    control, a lone surrogate, a format character (but a joiner between two non-ASCII characters),
    a default-ignorable or blank character (but a variation selector after a non-ASCII one), or a
    combining mark with nothing to combine with (the text's first character)."""
    import unicodedata

    char = text[n]
    if _CONTROL.match(char) or _LINE_BREAK.match(char) or _BIDI.match(char) or _SURROGATE.match(char):
        return True
    if char.isascii():
        return False
    category = unicodedata.category(char)
    if category == "Cf":
        return not (char in _JOINERS and 0 < n < len(text) - 1 and _joinable(text[n - 1])
                    and _joinable(text[n + 1]))
    if _FIRST_POLICY.get():
        return False
    if _NONCHARACTER.match(char):
        return True
    if _SELECTOR.match(char):
        return not (n > 0 and _joinable(text[n - 1]) and not _SELECTOR.match(text[n - 1]))
    if _IGNORABLE.match(char):
        return True
    return n == 0 and category.startswith("M")


def _escaped(char: str) -> str:
    code = ord(char)
    if code > 0xffff:
        return f"\\U{code:08x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def check_email(value: str) -> str:
    """An email address as a contact detail: one @ between two parts, no spaces (or nothing)."""
    value = check_text(value, "email", required=False, limit=300)
    if value and not _AS_RECORDED.get() and not (_EMAIL.fullmatch(value) and (
            _FIRST_POLICY.get() or not _AROUND_AN_ADDRESS.search(value))):
        raise BadInput(f"not an email address: {value!r} (such as laura@acme.test, without the name)")
    if value and not _AS_RECORDED.get() and not _FIRST_POLICY.get() and not value.isascii():
        raise BadInput(f"an email address tratos can send to is in ASCII letters: {value!r} (a domain with"
                       " accents as your mail provider writes it, xn--…)")
    return value
