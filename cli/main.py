"""Entry point of the `tratos` console script."""

import click

from cli import __name__ as _pkg  # noqa: F401


@click.group()
@click.version_option(package_name="tratos", prog_name="tratos")
def tratos() -> None:
    """Client relationships as a record nobody can quietly rewrite."""


def main() -> None:
    tratos()
