"""Prometheus metrics, in a registry of the app's own (several apps in one test process must
not collide in the global one), and the middleware that counts requests."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "tracegraph_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "tracegraph_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["method", "route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.traces = Counter(
            "tracegraph_traces",
            "Traces answered, by direction and whether a budget cut them short",
            ["direction", "partial"],
            registry=self.registry,
        )
        self.captures = Counter(
            "tracegraph_epcis_captures",
            "EPCIS capture jobs, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "tracegraph_http_requests_in_flight", "HTTP requests being answered", registry=self.registry
        )


class MetricsMiddleware:
    """Counts every HTTP request by its route *template* (``/api/v1/nodes/{key:path}``), so a
    million keys make one series, not a million."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500  # what the server answers when the app raises before responding
        started = time.perf_counter()

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        self.metrics.in_flight.inc()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            self.metrics.in_flight.dec()
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(time.perf_counter() - started)
