"""``GET /v1/accounts/{account_id}/score``: an account's score from the snapshot loaded with the model."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from serving.auth import ApiKey
from serving.errors import ApiError
from serving.routes import error_responses
from serving.schemas import SnapshotScoreResponse
from serving.scoring import account_results, select_rows
from serving.state import CurrentModel, State

router = APIRouter(prefix="/v1", tags=["scores"], dependencies=[ApiKey])


@router.get(
    "/accounts/{account_id:path}/score",  # path: an id may hold "/", sent percent-encoded as %2F
    response_model=SnapshotScoreResponse,
    responses=error_responses(401, 404, 503),
    summary="Score one account from the loaded feature snapshot",
)
async def account_score(account_id: str, model: CurrentModel, state: State) -> Any:
    """The snapshot (the latest as_of of ``--features``) was scored when the model loaded; this looks it up."""
    snapshot = model.snapshot
    if snapshot is None:
        raise ApiError(404, "no feature snapshot is loaded; start the server with --features FILE (CHURN_FEATURES)")
    row = snapshot.row_of.get(account_id)
    if row is None:
        raise ApiError(404, f"account_id: {account_id!r} is not in the snapshot of {snapshot.as_of or snapshot.source}")
    scores = select_rows(snapshot.scores, [row])
    state.metrics.count_scores({str(scores.tier[0]): 1})
    [result] = account_results(scores, model.encoding, [account_id])
    return {"model": model.source.reference(), "as_of": snapshot.as_of, "score": result}
