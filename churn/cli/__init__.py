"""`churn`: one command line for data, features, training and serving.

Each subcommand parses its arguments, builds the settings, calls the packages and
prints the result; no logic lives here.
"""

from __future__ import annotations

import typer

from churn.cli import data, modelling, serving

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.split("\n\n")[0])
data.register(app)
modelling.register(app)
serving.register(app)


def main() -> None:
    app()
