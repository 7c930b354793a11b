"""`churn generate` and `churn features`."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from churn.cli._common import clean_errors, progress
from churn.settings import Settings


def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the tables and truth.parquet into.")],
    accounts: Annotated[int, typer.Option(min=1, help="Number of accounts.")] = 2000,
    months: Annotated[int, typer.Option(min=1, help="Months of history.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same data.")] = 0,
) -> None:
    """Write a realistic synthetic SaaS history in the data contract."""
    from features.synthetic import generate as generate_dataset

    with clean_errors():
        summary = generate_dataset(out, n_accounts=accounts, months=months, seed=seed, on_progress=progress)
    typer.echo(summary.describe())


def features(
    data: Annotated[Path, typer.Option(
        help="Data folder in the contract: per table a Parquet file or folder of parts, a CSV (maybe .gz), JSON "
        "(lines, an array, or a folder of parts), or a workbook (.xlsx, .xls, .ods: the sheet named after the "
        "table, else the first)."
    )],
    out: Annotated[Path, typer.Option(help="Parquet file to write the feature table to.")],
    as_of: Annotated[
        Optional[list[str]], typer.Option("--as-of", help="Observation date (YYYY-MM-DD); repeatable. Default: every period at --freq.")
    ] = None,
    freq: Annotated[Optional[str], typer.Option(help="Frequency of generated observation dates: monthly or weekly.")] = None,
    horizon_days: Annotated[Optional[int], typer.Option(help="Label horizon in days.")] = None,
    grace_days: Annotated[Optional[int], typer.Option(help="Days a lapse may last and still count as a renewal.")] = None,
    mapping: Annotated[Optional[Path], typer.Option(help="Mapping file (TOML or YAML): what event types mean, which account columns are attributes, which of your columns are the contract's.")] = None,
) -> None:
    """Build point-in-time features and churn labels for every active account at every observation date."""
    from features.build import build_feature_file

    overrides = {"freq": freq, "horizon_days": horizon_days, "grace_days": grace_days, "mapping": mapping}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    with clean_errors():
        dates = [_parse_date(text) for text in as_of or []]
        report = build_feature_file(
            data,
            out,
            as_of=dates or None,
            freq=settings.freq,
            windows=settings.windows,
            horizon_days=settings.horizon_days,
            grace_days=settings.grace_days,
            mapping_path=settings.mapping,
            max_event_types=settings.max_event_types,
            on_progress=progress,
        )
    typer.echo(report.describe())


def _parse_date(text: str) -> date:
    from features.errors import ChurnInputError

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ChurnInputError(f"{text!r} is not a date (expected YYYY-MM-DD)", table="--as-of") from None


def register(app: typer.Typer) -> None:
    app.command()(generate)
    app.command()(features)
