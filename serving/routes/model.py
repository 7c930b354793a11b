"""``GET /v1/model``: which model serves, how it scored in training, and what it reads."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from serving.auth import ApiKey
from serving.routes import error_responses
from serving.schemas import ModelInfoPublic
from serving.state import CurrentModel

router = APIRouter(prefix="/v1", tags=["model"], dependencies=[ApiKey])


@router.get("/model", response_model=ModelInfoPublic, responses=error_responses(401, 503), summary="The serving model")
async def model_info(model: CurrentModel) -> Any:
    """Name, version, run, training metrics, tier thresholds and the feature list with reference statistics."""
    churn_model, encoding, snapshot = model.model, model.encoding, model.snapshot
    medium, high = churn_model.tier_thresholds_
    return {
        **model.source.reference(),
        "uri": model.source.uri,
        "loaded_at": model.loaded_at,
        "metrics": model.metrics,
        "tier_thresholds": {"medium": medium, "high": high},
        "keys": {"id_column": model.keys.id_column, "time_column": model.keys.time_column},
        "features": [
            {
                "name": name,
                "kind": encoding.kind(name),
                "categories": churn_model.categories_.get(name),
                "reference": churn_model.reference_stats_.get(name, {}),
            }
            for name in encoding.names
        ],
        "snapshot": (
            {"source": snapshot.source, "as_of": snapshot.as_of, "accounts": len(snapshot.account_ids)} if snapshot else None
        ),
    }
