"""The signing key's passphrase: from TRATOS_KEY_PASSPHRASE, or asked on a terminal, never guessed at."""

from __future__ import annotations

import os
import sys

import click

PASSPHRASE_ENV = "TRATOS_KEY_PASSPHRASE"


def key_passphrase(question: str, *, confirm: bool = False, required: bool = True) -> str | None:
    """$TRATOS_KEY_PASSPHRASE, else the answer typed on the terminal.

    With no terminal to ask on (a script, a pipe, cron) a prompt would print
    getpass warnings and read whatever stdin holds; instead a required
    passphrase is one `error:` line (exit 2) naming the variable to set, and an
    optional one is None.
    """
    from domain.model.errors import BadInput

    passphrase = os.environ.get(PASSPHRASE_ENV)
    if passphrase is not None:
        return passphrase
    if not _on_a_terminal():
        if not required:
            return None
        raise BadInput(f"no passphrase for the signing key: set {PASSPHRASE_ENV}"
                       " (there is no terminal to ask on)")
    return click.prompt(question, hide_input=True, confirmation_prompt=confirm, err=True)


def _on_a_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):  # stdin closed or replaced by something without a tty
        return False
