"""``POST /v1/scores``: churn probability, risk tier and top drivers for a batch of accounts."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from serving.auth import ApiKey
from serving.encoding import encode_accounts
from serving.errors import ApiError
from serving.jsonio import FastJSONRoute, json_response
from serving.loaded_model import LoadedModel
from serving.routes import error_responses
from serving.schemas import AccountFeatures, ScoreRequest, ScoreResponse
from serving.scoring import account_results, tier_counts
from serving.state import CurrentModel, State

router = APIRouter(prefix="/v1", tags=["scores"], dependencies=[ApiKey], route_class=FastJSONRoute)

# Larger batches are scored in a worker thread so the event loop keeps answering small requests.
_INLINE_ACCOUNTS = 64


@router.post(
    "/scores",
    response_model=ScoreResponse,
    responses=error_responses(401, 413, 422, 503),
    summary="Score a batch of accounts",
)
async def score_accounts(body: ScoreRequest, model: CurrentModel, state: State) -> Response:
    """Calibrated churn probability, risk tier and the features pushing each account's risk up.

    Missing features are allowed (scored as unknown) and listed per account. Unknown feature
    names, text for a numeric feature, NaN or infinity are refused with 422 naming the field.
    """
    accounts = body.accounts
    if len(accounts) > state.settings.max_batch:
        raise ApiError(413, f"accounts: {len(accounts)} accounts is more than this server's limit of {state.settings.max_batch} per request")
    if len(accounts) <= _INLINE_ACCOUNTS:
        results, tiers = _score(model, accounts)
    else:
        results, tiers = await run_in_threadpool(_score, model, accounts)
    state.metrics.count_scores(tiers)
    return json_response({"model": model.source.reference(), "scores": results})


def _score(model: LoadedModel, accounts: list[AccountFeatures]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    matrix = encode_accounts(model.encoding, [account.features for account in accounts])
    scores = model.score(matrix)
    return account_results(scores, model.encoding, [account.account_id for account in accounts]), tier_counts(scores)
