"""``POST /v1/admin/reload``: load what the model URI points to now, beside the serving model, and swap."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from serving.auth import AdminKey
from serving.errors import ApiError
from serving.routes import error_responses
from serving.schemas import ReloadResult
from serving.state import State

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[AdminKey])


@router.post("/reload", response_model=ReloadResult, responses=error_responses(401, 403, 409), summary="Reload the model")
async def reload_model(state: State) -> Any:
    """Requests in flight finish on the model they started with. If the new version fails to
    load, the serving one stays and the answer is 409 with the error."""
    outcome = await state.reload()
    if outcome.error is not None:
        serving = outcome.previous.source.version if outcome.previous else None
        keeps = f"version {serving} keeps serving" if outcome.previous else "no model is serving"
        raise ApiError(409, f"loading {state.settings.model_uri} failed; {keeps}: {outcome.error}")
    return {
        "reloaded": outcome.reloaded,
        "previous": outcome.previous.source.reference() if outcome.previous else None,
        "current": outcome.current.source.reference(),
    }
