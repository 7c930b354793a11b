"""What every subcommand shares: turning a project error into a clean exit."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import typer


def progress(message: str) -> None:
    """Progress lines go to stderr so stdout stays for results."""
    typer.echo(message, err=True)


@contextmanager
def clean_errors():
    """Print a user error as one line and exit non-zero, without a traceback."""
    from features.errors import ChurnInputError

    try:
        yield
    except ChurnInputError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
