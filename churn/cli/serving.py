"""`churn serve` and `churn score`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from churn.cli._common import clean_errors, progress
from churn.settings import Settings


def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port to listen on.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model URI; an alias (models:/name@alias) can be reloaded and polled.")] = None,
    features: Annotated[
        Optional[Path],
        typer.Option(help="Feature table (Parquet, CSV or a workbook) whose latest snapshot backs GET /v1/accounts/{id}/score."),
    ] = None,
    poll_seconds: Annotated[Optional[float], typer.Option(help="Check the alias this often and reload on change (0: never).")] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request.")] = True,
) -> None:
    """Serve churn scores over HTTP (FastAPI on uvicorn); keys and limits come from CHURN_* variables."""
    import logging

    import uvicorn

    from serving.app import create_app

    overrides = {"host": host, "port": port, "model_uri": model, "features": features, "poll_seconds": poll_seconds}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    progress(f"serving {settings.model_uri} on http://{settings.host}:{settings.port} (docs at /docs)")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, access_log=access_log)


def score(
    features: Annotated[Path, typer.Option(help="Feature table (Parquet, CSV or a workbook) to score, every row.")],
    out: Annotated[Path, typer.Option(help="Parquet file to write the scores to.")],
    model: Annotated[
        Optional[str], typer.Option(help="Model URI, e.g. models:/churn-model@challenger. Default: the served one.")
    ] = None,
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows read and scored at a time.")] = 50_000,
) -> None:
    """Batch-score every row of a feature table with the API's fields plus model name and version."""
    from serving.batch import score_file

    settings = Settings()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    with clean_errors():
        report = score_file(
            model or settings.model_uri,
            features,
            out,
            tracking_uri=settings.tracking_uri,
            chunk_rows=chunk_rows,
            top_drivers=settings.top_drivers,
            on_progress=progress,
        )
    typer.echo(report.describe())


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(score)
