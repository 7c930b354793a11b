"""``GET /metrics``: Prometheus text format; open, like the health endpoints."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from serving.state import State

router = APIRouter(tags=["health"])

_EXAMPLE = """# HELP churn_http_requests_total HTTP requests by route template, method and status.
# TYPE churn_http_requests_total counter
churn_http_requests_total{method="POST",route="/v1/scores",status="200"} 1042.0
# HELP churn_scores_total Accounts scored through the API, by risk tier.
# TYPE churn_scores_total counter
churn_scores_total{tier="high"} 97.0
# HELP churn_model_info The model version serving (value 1).
# TYPE churn_model_info gauge
churn_model_info{alias="champion",name="churn-model",run_id="8d1f0c3b9e2a4c61a0f5b7e2d4c9a813",version="3"} 1.0
"""


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"example": _EXAMPLE}}, "description": "Prometheus text format."}},
    summary="Prometheus metrics",
)
async def metrics(state: State) -> Response:
    """Request counts and latency histograms per route, scores by tier, and the serving model version."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
