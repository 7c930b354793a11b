"""``GET /healthz`` (the process answers) and ``GET /readyz`` (a model is loaded); both open."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from serving.schemas import Health, Readiness
from serving.state import State

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="Alive")
async def healthz() -> Any:
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "No model is loaded (yet); last_reload_error says why."}},
    summary="Ready to score",
)
async def readyz(state: State) -> Any:
    current = state.current
    body = {
        "ready": current is not None,
        "model_version": current.source.version if current else None,
        "last_reload_error": state.last_error,
    }
    return body if current is not None else JSONResponse(body, status_code=503)
