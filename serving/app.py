"""The churn-risk API: ``create_app(settings)``, run with ``uvicorn --factory``.

Nothing is built at import time. The lifespan loads the model the settings point to (and the
feature snapshot, when configured) and, with ``poll_seconds``, watches the alias for new versions.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator

from fastapi import FastAPI

from churn.settings import Settings
from serving.errors import install_error_handlers
from serving.metrics import MetricsMiddleware, ServingMetrics
from serving.routes import accounts, admin, health, metrics, model, scores
from serving.state import ServingState

log = logging.getLogger("churn.serving")

_DESCRIPTION = """Churn probability, risk tier and the signals driving it, for every account.

Scoring endpoints need `Authorization: Bearer <key>` when API keys are configured
(`CHURN_API_KEYS`); `/v1/admin` needs the admin key (`CHURN_ADMIN_KEY`). Health and metrics
are open. Every refusal has the same shape: a `detail` line and the `errors` naming each field.
"""


def create_app(settings: Settings) -> FastAPI:
    metrics_registry = ServingMetrics()
    state = ServingState(settings, metrics_registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await state.reload()
        # What start-up built (modules, the model) lives as long as the process. Frozen, it is no
        # longer rescanned by the collections a large request triggers as it allocates a million
        # small objects (a third of the time of a 10,000-account request otherwise).
        gc.freeze()
        poller = asyncio.create_task(state.poll_alias()) if settings.poll_seconds > 0 else None
        try:
            yield
        finally:
            if poller is not None:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller

    app = FastAPI(
        title="churn",
        summary="Churn risk for every account, and why.",
        description=_DESCRIPTION,
        version="1",
        lifespan=lifespan,
    )
    app.state.serving = state
    app.state.max_body_bytes = round(settings.max_body_mb * 1_000_000)  # read by serving.jsonio
    install_error_handlers(app)
    for router in (scores.router, accounts.router, model.router, admin.router, health.router, metrics.router):
        app.include_router(router)
    app.add_middleware(MetricsMiddleware, metrics=metrics_registry)
    return app


def create_app_from_env() -> FastAPI:
    """For ``uvicorn --factory serving.app:create_app_from_env``: settings from CHURN_* variables."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return create_app(Settings())
