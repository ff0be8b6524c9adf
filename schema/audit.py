"""Audit trail entries (21 CFR Part 11 §11.10(e)): who changed what, when, from what to what, and why.

Entries form a hash chain: each one carries the SHA-256 of the previous entry's canonical JSON
(``prev_hash``), so modifying, removing or reordering an entry breaks the chain where it happened.
The canonical JSON (sorted keys, no spaces, UTF-8) is exactly what is stored and hashed.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator

from schema.model import iso, utc

#: ``prev_hash`` of the first entry.
GENESIS_HASH = "0" * 64


class AuditAction(StrEnum):
    """What kind of change an entry records. Stored as its value; readers accept unknown values
    (an entry written by a newer version) as plain strings."""

    LOAD = "load"
    CORRECTION = "correction"
    RETRACTION = "retraction"
    ALERT_TRANSITION = "alert.transition"
    TASK_TRANSITION = "task.transition"
    SIGNATURE = "signature"
    REPORT = "report.generated"
    PACKAGE = "package.generated"
    CONFIGURATION = "configuration.changed"
    USER = "user.changed"
    KEY = "key.changed"
    #: Sign-in and refusals: not changes, but who tried what is part of the record.
    LOGIN = "session.login"
    LOGOUT = "session.logout"
    LOGIN_FAILED = "session.login_failed"
    ACCESS_DENIED = "access.denied"


#: Changes a person must explain: the entry is refused without a reason.
REASON_REQUIRED = frozenset(
    {
        AuditAction.CORRECTION,
        AuditAction.RETRACTION,
        AuditAction.SIGNATURE,
        AuditAction.CONFIGURATION,
        AuditAction.USER,
        AuditAction.KEY,
    }
)


class AuditEntry(BaseModel):
    """One appended entry. ``old``/``new`` are JSON values (the state before and after)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: int = Field(..., ge=1, description="Position in the trail: 1, 2, 3, … without gaps")
    at: datetime = Field(..., description="When it was recorded (UTC)")
    actor: str = Field(..., min_length=1, description="Who: a user, an API key, or os:<account> for the CLI")
    action: str = Field(..., min_length=1, description="What kind of change (AuditAction)")
    subject: str = Field(..., description="What was changed: batch:…, alert:…, task:…, report:…")
    old: Any = None
    new: Any = None
    reason: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    prev_hash: str = Field(..., pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the previous entry's JSON")

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return utc(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": iso(self.at),
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "old": self.old,
            "new": self.new,
            "reason": self.reason,
            "details": self.details,
            "prev_hash": self.prev_hash,
        }

    def canonical(self) -> bytes:
        """The bytes stored and hashed: sorted keys, no whitespace, UTF-8."""
        return orjson.dumps(self.to_json(), option=orjson.OPT_SORT_KEYS)

    def digest(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()
