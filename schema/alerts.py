"""Alerts and tasks: graded alerts raised by rules on signals, and the tasks they open.

Both are graph nodes (``NodeKind.ALERT``, ``NodeKind.TASK``) whose props hold their current
state; every transition is a new version of the node with its provenance, so the history of
an alert or a task is the node's versions: who, when, why.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schema.errors import ConflictError, InvalidInputError


class AlertGrade(StrEnum):
    WATCH = "watch"
    WARNING = "warning"
    CRITICAL = "critical"
    RECALL_CANDIDATE = "recall-candidate"

    @property
    def rank(self) -> int:
        return list(AlertGrade).index(self)


class AlertState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class TaskState(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    ACTION = "action"
    VERIFICATION = "verification"
    CLOSED = "closed"


class ActionKind(StrEnum):
    """What an investigation decides to do: each becomes a record node linked to the concern."""

    CAPA = "capa"
    NONCONFORMANCE = "nonconformance"
    CHANGE_REQUEST = "change_request"


class IllegalTransitionError(ConflictError):
    """A task cannot move from its state to the one asked for."""

    code = "illegal_transition"


class MissingFieldError(InvalidInputError):
    """A transition needs a field that was not given (root cause, disposition, ...)."""

    code = "missing_field"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(_Frozen):
    """One version of an alert or task: what it became, who did it, when and why."""

    at: datetime
    by: str
    state: str
    reason: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class Alert(_Frozen):
    key: str
    rule: str = Field(description="The alert rule that raised it")
    node: str = Field(description="What it is about")
    grade: AlertGrade
    state: AlertState
    title: str
    summary: str
    owner_role: str
    owner: str | None
    due_at: datetime | None
    opened_at: datetime
    signal: str = Field(description="Id of the signal behind it")
    signal_rule: str
    probability: float
    evidence: tuple[str, ...] = ()
    tasks: tuple[str, ...] = ()
    held: tuple[str, ...] = Field((), description="Stock put on hold because of it, released when it closes")
    deliveries: tuple[dict[str, Any], ...] = Field((), description="Webhook deliveries about it")
    history: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


class Task(_Frozen):
    key: str
    alert: str
    concerns: str = Field(description="The node the alert is about")
    title: str
    state: TaskState
    assignee: str | None
    role: str
    due_at: datetime | None
    fields: dict[str, Any] = Field(default_factory=dict, description="Root cause, action, disposition, ...")
    records: tuple[str, ...] = Field((), description="CAPA, nonconformance or change records it opened")
    history: tuple[Change, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
