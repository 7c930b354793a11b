"""The app's one mutable thing: which ``LoadedModel`` serves, and how it is replaced.

Loading happens in a worker thread beside the serving model; the swap is a single assignment,
and requests hold the object they started with, so no request ever sees half a model.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request

from churn.settings import Settings
from serving.errors import ApiError
from serving.loaded_model import LoadedModel, load_model, resolve_source
from serving.metrics import ServingMetrics

log = logging.getLogger("churn.serving")


@dataclass(frozen=True)
class ReloadOutcome:
    previous: LoadedModel | None
    current: LoadedModel | None
    error: str | None

    @property
    def reloaded(self) -> bool:
        return self.error is None and self.current is not self.previous


class ServingState:
    def __init__(self, settings: Settings, metrics: ServingMetrics):
        self.settings = settings
        self.metrics = metrics
        self.current: LoadedModel | None = None
        self.last_error: str | None = None
        self._reload_lock = asyncio.Lock()

    async def reload(self) -> ReloadOutcome:
        """Load what the configured URI points to now and swap it in; on failure keep serving the old one."""
        async with self._reload_lock:
            previous = self.current
            try:
                fresh = await anyio.to_thread.run_sync(self._load)
            except Exception as exc:  # any failure to load must leave the serving model untouched
                self.last_error = f"{type(exc).__name__}: {exc}"
                self.metrics.reloads.labels("failed").inc()
                log.error("loading %s failed; %s", self.settings.model_uri, self._keeps_serving(previous))
                log.error("%s", self.last_error)
                return ReloadOutcome(previous, previous, self.last_error)
            self.current = fresh
            self.last_error = None
            source = fresh.source
            self.metrics.set_model(source.name, source.version, source.alias, source.run_id)
            self.metrics.reloads.labels("loaded").inc()
            log.info("serving %s version %s (run %s)", source.name or source.uri, source.version, source.run_id)
            return ReloadOutcome(previous, fresh, None)

    async def poll_alias(self) -> None:
        """Reload whenever the alias points to another version; runs until cancelled."""
        while True:
            await asyncio.sleep(self.settings.poll_seconds)
            try:
                source = await anyio.to_thread.run_sync(
                    lambda: resolve_source(self.settings.model_uri, tracking_uri=self.settings.tracking_uri)
                )
            except Exception as exc:  # a registry hiccup must not end polling
                log.warning("polling %s failed: %s", self.settings.model_uri, exc)
                continue
            serving = self.current.source.version if self.current else None
            if source.version != serving:
                await self.reload()

    def _load(self) -> LoadedModel:
        settings = self.settings
        return load_model(
            settings.model_uri,
            tracking_uri=settings.tracking_uri,
            features_path=settings.features,
            top_drivers=settings.top_drivers,
        )

    @staticmethod
    def _keeps_serving(previous: LoadedModel | None) -> str:
        if previous is None:
            return "no model is serving"
        return f"version {previous.source.version or previous.source.uri} keeps serving"


async def serving_state(request: Request) -> ServingState:
    return request.app.state.serving


async def current_model(request: Request) -> LoadedModel:
    model = request.app.state.serving.current
    if model is None:
        raise ApiError(503, "no model is loaded yet; GET /readyz says why")
    return model


State = Annotated[ServingState, Depends(serving_state)]
CurrentModel = Annotated[LoadedModel, Depends(current_model)]
