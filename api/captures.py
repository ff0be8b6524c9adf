"""EPCIS capture jobs, remembered in memory so ``GET /epcis/capture/{id}`` can report them.

Captures are processed before the 202 is sent, so a job is finished by the time anyone can
ask for it. The registry is bounded: past ``size`` jobs the oldest is forgotten (its facts are
not: they are in the store, with the capture id as their provenance source). It lives in one
process and is lost on restart; with several workers a status request may reach a worker that
never saw the capture and get 404.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schema.errors import NotFoundError
from schema.model import iso


@dataclass
class CaptureJob:
    capture_id: str
    created_at: datetime
    error_behaviour: str  # "rollback" (strict: nothing or all) or "proceed" (load what is valid)
    finished_at: datetime | None = None
    success: bool | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    batch_id: str | None = None
    events: int = 0

    def to_json(self) -> dict[str, Any]:
        """The EPCIS 2.0 capture job shape (``captureID``, ``running``, ``success``, ``errors``, ...)."""
        return {
            "captureID": self.capture_id,
            "createdAt": iso(self.created_at),
            "finishedAt": iso(self.finished_at),
            "running": self.finished_at is None,
            "success": self.success,
            "captureErrorBehaviour": self.error_behaviour,
            "errors": self.errors,
            "batchID": self.batch_id,
            "eventCount": self.events,
        }


class CaptureRegistry:
    def __init__(self, size: int) -> None:
        self.size = size
        self._jobs: OrderedDict[str, CaptureJob] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, error_behaviour: str) -> CaptureJob:
        job = CaptureJob(capture_id=uuid.uuid4().hex, created_at=datetime.now(UTC), error_behaviour=error_behaviour)
        with self._lock:
            self._jobs[job.capture_id] = job
            while len(self._jobs) > self.size:
                self._jobs.popitem(last=False)
        return job

    def get(self, capture_id: str) -> CaptureJob:
        with self._lock:
            job = self._jobs.get(capture_id)
        if job is None:
            raise NotFoundError(
                f"no capture {capture_id} (this server remembers its last {self.size} captures since it started)"
            )
        return job

    def recent(self) -> list[CaptureJob]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))
