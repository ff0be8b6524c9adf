"""Outgoing webhooks: signed JSON posts on alert open, escalate and close, retried with backoff.

Each delivery is a POST of the event as JSON with these headers:

- ``X-TraceGraph-Event``: ``alert.opened``, ``alert.escalated`` or ``alert.closed``;
- ``X-TraceGraph-Delivery``: a unique id (the same on every retry of one delivery);
- ``X-TraceGraph-Timestamp``: seconds since 1970 when it was signed;
- ``X-TraceGraph-Signature``: ``sha256=`` and the hex HMAC-SHA256 of ``{timestamp}.{body}``
  under the hook's secret (read from the environment variable ``secret_env`` names; no
  header when the hook has no secret).

A receiver recomputes the HMAC over the timestamp, a dot and the raw body, compares it in
constant time, and rejects old timestamps (replays). Connection errors, 429 and 5xx are
retried after ``backoff``, ``2 * backoff``, ... seconds; other answers are final. Every
delivery, successful or not, is returned for the delivery log.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

from risk.alerts import Webhook

SIGNATURE_HEADER = "X-TraceGraph-Signature"
TIMESTAMP_HEADER = "X-TraceGraph-Timestamp"
EVENT_HEADER = "X-TraceGraph-Event"
DELIVERY_HEADER = "X-TraceGraph-Delivery"


class Delivery(BaseModel):
    """One webhook delivery, as the delivery log keeps it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    event: str
    url: str
    ok: bool
    status: int | None
    attempts: int
    error: str | None = None
    at: datetime


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value.

    >>> sign(b"s3cret", "1700000000", b'{"a":1}')[:15]
    'sha256=1698a50b'
    """
    digest = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return "sha256=" + digest


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSender:
    """Posts events to the configured hooks."""

    def __init__(
        self,
        hooks: Sequence[Webhook],
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.hooks = tuple(hooks)
        self.environ = os.environ if environ is None else environ
        self.sleep = sleep

    def send(self, event: str, payload: Mapping[str, Any]) -> list[Delivery]:
        """Deliver ``payload`` to every hook subscribed to ``event`` (``opened``, ``escalated``, ``closed``)."""
        deliveries = []
        body = orjson.dumps({"event": f"alert.{event}", **payload}, option=orjson.OPT_SORT_KEYS)
        for hook in self.hooks:
            if event in hook.events:
                deliveries.append(self._deliver(hook, event, body))
        return deliveries

    def _deliver(self, hook: Webhook, event: str, body: bytes) -> Delivery:
        delivery_id = uuid.uuid4().hex
        secret = self.environ.get(hook.secret_env) if hook.secret_env else None
        status: int | None = None
        error: str | None = None
        attempt = 0
        for attempt in range(1, hook.attempts + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "tracegraph-webhooks/1",
                EVENT_HEADER: f"alert.{event}",
                DELIVERY_HEADER: delivery_id,
                TIMESTAMP_HEADER: timestamp,
            }
            if secret:
                headers[SIGNATURE_HEADER] = sign(secret.encode(), timestamp, body)
            request = urllib.request.Request(hook.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=hook.timeout) as response:
                    status, error = response.status, None
            except urllib.error.HTTPError as exc:
                status, error = exc.code, f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError) as exc:
                status, error = None, str(getattr(exc, "reason", exc))
            if status is not None and 200 <= status < 300:
                break
            retryable = status is None or status == 429 or status >= 500
            if not retryable or attempt == hook.attempts:
                break
            self.sleep(hook.backoff * 2 ** (attempt - 1))
        ok = status is not None and 200 <= status < 300
        return Delivery(
            id=delivery_id,
            event=f"alert.{event}",
            url=hook.url,
            ok=ok,
            status=status,
            attempts=attempt,
            error=None if ok else error,
            at=datetime.now(UTC),
        )
