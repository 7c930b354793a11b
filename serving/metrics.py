"""Prometheus metrics of one app, in a registry of its own so several apps (tests) never share counters."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ServingMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "churn_http_requests", "HTTP requests by route template, method and status.", ["route", "method", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "churn_http_request_duration_seconds",
            "Time from request to the end of the response, by route template.",
            ["route", "method"],
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.scores = Counter("churn_scores", "Accounts scored through the API, by risk tier.", ["tier"], registry=self.registry)
        self.model_info = Gauge(
            "churn_model_info", "The model version serving (value 1).", ["name", "version", "alias", "run_id"], registry=self.registry
        )
        self.model_version = Gauge("churn_model_version", "Registered version number serving (0 when not registered).", registry=self.registry)
        self.reloads = Counter("churn_model_reloads", "Model loads and reloads by outcome.", ["outcome"], registry=self.registry)

    def set_model(self, name: str | None, version: str | None, alias: str | None, run_id: str | None) -> None:
        self.model_info.clear()
        self.model_info.labels(name or "", version or "", alias or "", run_id or "").set(1)
        self.model_version.set(float(version) if version and version.isdigit() else 0.0)

    def count_scores(self, tier_counts: dict[str, int]) -> None:
        for tier, count in tier_counts.items():
            self.scores.labels(tier).inc(count)


class MetricsMiddleware:
    """Counts and times every HTTP request by the route template it matched (never the raw path)."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics):
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            route = getattr(scope.get("route"), "path_format", None) or "unmatched"  # the template, without ":path"
            method = scope["method"]
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route, method).observe(time.perf_counter() - start)
