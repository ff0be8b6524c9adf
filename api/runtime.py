"""What the app holds for its lifetime: services, settings, and the gate to the store.

Services are synchronous (SQLite and the Neo4j driver block), so every call leaves the event
loop for a worker thread. The gate bounds how many run at once: the SQLite store has one
connection, and interleaving two callers' statements on it could let a read see half of a
write transaction, so SQLite calls go one at a time (they would serialise on the connection
anyway); Neo4j's driver is thread-safe and pools connections, so it gets several.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import ParamSpec, TypeVar

import anyio
import anyio.to_thread

from api.captures import CaptureRegistry
from api.metrics import Metrics
from api.settings import ApiSettings
from services.app import Services

P = ParamSpec("P")
T = TypeVar("T")

SQLITE_CONCURRENCY = 1
DEFAULT_CONCURRENCY = 16


@dataclass
class Runtime:
    services: Services
    settings: ApiSettings
    metrics: Metrics
    captures: CaptureRegistry
    gate: anyio.CapacityLimiter = field(init=False)

    def __post_init__(self) -> None:
        default = SQLITE_CONCURRENCY if self.services.store.backend == "sqlite" else DEFAULT_CONCURRENCY
        self.gate = anyio.CapacityLimiter(self.settings.store_concurrency or default)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` on a worker thread, within the store's concurrency."""
        return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs), limiter=self.gate)

    async def run_within(self, seconds: float, fn: Callable[[], T]) -> T:
        """``fn()`` on a worker thread, or TimeoutError after ``seconds`` (waiting for the gate
        included); a call that overruns finishes in the background, its answer dropped."""
        with anyio.fail_after(seconds):
            return await anyio.to_thread.run_sync(fn, limiter=self.gate, abandon_on_cancel=True)
