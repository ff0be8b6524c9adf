"""The alert rules engine: declarative rules grade signals into alerts; the task state machine.

Rules live in YAML (the packaged default is ``risk/rules/default.yaml``)::

    grades:                       # who owns each grade and how fast they must respond
      critical: {owner: quality_manager, response_hours: 24}
    people:                       # role → person
      quality_manager: q.manager@example.com
    rules:                        # first match wins, in order
      - id: complaint-cluster
        title: Complaint cluster on a lot
        when: {rule: "complaints.*", min_probability: 0.5}
        grade: warning
        escalate: [{min_probability: 0.9, grade: critical}]

A rule matches a signal by its rule name (a glob), node (a glob), minimum severity and
minimum probability; its grade rises through ``escalate`` steps as the signal strengthens.
The alert's key is derived from the rule and the node, so the same condition on the same
node updates one alert instead of opening another.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from risk.signals.base import Severity, Signal
from schema.alerts import ActionKind, AlertGrade, IllegalTransitionError, MissingFieldError, TaskState
from schema.errors import InvalidInputError

DEFAULT_RULES = "default.yaml"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GradePolicy(_Model):
    owner: str = Field(description="Role that owns alerts of this grade")
    response_hours: float = Field(gt=0, description="Hours until the task is due")


class Condition(_Model):
    rule: str = Field("*", description="Glob over signal rules, e.g. complaints.*")
    node: str = Field("*", description="Glob over node keys, e.g. lot:*")
    min_severity: Severity = Severity.LOW
    min_probability: float = Field(0.0, ge=0.0, le=1.0)

    def matches(self, signal: Signal) -> bool:
        return (
            fnmatch.fnmatchcase(signal.rule, self.rule)
            and fnmatch.fnmatchcase(signal.node, self.node)
            and signal.severity.rank >= self.min_severity.rank
            and signal.probability >= self.min_probability
        )


class Escalation(_Model):
    min_probability: float = Field(0.0, ge=0.0, le=1.0)
    min_severity: Severity = Severity.LOW
    grade: AlertGrade


class AlertRule(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    when: Condition = Field(default_factory=Condition)
    grade: AlertGrade
    escalate: tuple[Escalation, ...] = ()
    hold_stock: bool = Field(False, description="Hold unshipped downstream stock at critical or above")
    response_hours: float | None = Field(
        None, gt=0, description="A regulatory deadline: hours until the task is due, instead of the grade's"
    )
    clock_from: Literal["run", "signal"] = Field(
        "run", description="Count the deadline from when the rules ran, or from the start of the signal's window"
    )


class Webhook(_Model):
    url: str
    events: tuple[str, ...] = ("opened", "escalated", "closed")
    secret_env: str | None = Field(None, description="Environment variable holding the HMAC secret")
    timeout: float = Field(5.0, gt=0)
    attempts: int = Field(4, ge=1, le=10)
    backoff: float = Field(0.5, ge=0, description="Seconds before the second try; doubles each try")


class AlertConfig(_Model):
    version: int = 1
    on_load: bool = Field(True, description="Evaluate the rules after every successful load")
    hold_grade: AlertGrade = Field(AlertGrade.CRITICAL, description="Grade from which rules with hold_stock hold stock")
    grades: dict[AlertGrade, GradePolicy]
    people: dict[str, str] = Field(default_factory=dict)
    rules: tuple[AlertRule, ...]
    critical: tuple[str, ...] = Field((), description="Parts and processes whose changes raise signals")
    webhooks: tuple[Webhook, ...] = ()

    def match(self, signal: Signal) -> tuple[AlertRule, AlertGrade] | None:
        """The first rule that matches ``signal``, and the grade it gives it.

        >>> from risk.signals.base import Signal, Severity
        >>> config = load_config()
        >>> signal = Signal(id="sig-1", rule="labels.mismatch", test="t", node="wo:1", probability=0.95,
        ...                 severity=Severity.CRITICAL, summary="s")
        >>> rule, grade = config.match(signal)
        >>> rule.id, grade.value
        ('mislabelled-devices', 'recall-candidate')
        """
        for rule in self.rules:
            if rule.when.matches(signal):
                grade = rule.grade
                for step in rule.escalate:
                    if (
                        signal.probability >= step.min_probability
                        and signal.severity.rank >= step.min_severity.rank
                        and step.grade.rank > grade.rank
                    ):
                        grade = step.grade
                return rule, grade
        return None

    def assignee(self, role: str) -> str | None:
        return self.people.get(role)


def load_config(path: Path | None = None) -> AlertConfig:
    """Read alert rules from ``path``, or the packaged default rules."""
    if path is None:
        text = resources.files("risk.rules").joinpath(DEFAULT_RULES).read_text(encoding="utf-8")
        where = f"risk/rules/{DEFAULT_RULES}"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidInputError(f"cannot read alert rules {path}: {exc.strerror or exc}") from None
        where = str(path)
    try:
        data = yaml.safe_load(text)
        return AlertConfig.model_validate(data)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{where} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise InvalidInputError(f"{where}: {exc}") from None


def alert_key(rule_id: str, node: str) -> str:
    """``alert:{rule}@{node}``: one alert per rule and node.

    >>> alert_key("spc-shift", "equipment:EXT-03")
    'alert:spc-shift@equipment:EXT-03'
    """
    return f"alert:{rule_id}@{node}"


def task_key(alert: str) -> str:
    """The task an alert opens.

    >>> task_key("alert:spc-shift@equipment:EXT-03")
    'task:spc-shift@equipment:EXT-03'
    """
    return "task:" + alert.removeprefix("alert:")


# -- the task state machine ------------------------------------------------------------------

#: Allowed moves and the fields each needs.
TRANSITIONS: dict[tuple[TaskState, TaskState], tuple[str, ...]] = {
    (TaskState.OPEN, TaskState.INVESTIGATING): (),
    (TaskState.INVESTIGATING, TaskState.ACTION): ("root_cause", "action"),
    (TaskState.INVESTIGATING, TaskState.CLOSED): ("root_cause", "justification"),
    (TaskState.ACTION, TaskState.VERIFICATION): ("disposition",),
    (TaskState.VERIFICATION, TaskState.ACTION): ("effectiveness_check",),
    (TaskState.VERIFICATION, TaskState.CLOSED): ("effectiveness_check",),
}


def check_transition(current: TaskState, target: TaskState, fields: Mapping[str, Any]) -> None:
    """Raise unless a task may move from ``current`` to ``target`` with ``fields``.

    >>> check_transition(TaskState.OPEN, TaskState.INVESTIGATING, {})
    >>> check_transition(TaskState.OPEN, TaskState.CLOSED, {})
    Traceback (most recent call last):
    ...
    schema.alerts.IllegalTransitionError: a task cannot move from open to closed; from open it can move to investigating
    >>> check_transition(TaskState.INVESTIGATING, TaskState.ACTION, {"root_cause": "worn die"})
    Traceback (most recent call last):
    ...
    schema.alerts.MissingFieldError: moving to action needs action (one of capa, nonconformance, change_request)
    """
    required = TRANSITIONS.get((current, target))
    if required is None:
        allowed = sorted(t.value for (c, t) in TRANSITIONS if c is current)
        where = ", ".join(allowed) if allowed else "nothing: it is closed"
        raise IllegalTransitionError(
            f"a task cannot move from {current.value} to {target.value}; from {current.value} it can move to {where}"
        )
    for name in required:
        value = fields.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            hint = f" (one of {', '.join(a.value for a in ActionKind)})" if name == "action" else ""
            raise MissingFieldError(f"moving to {target.value} needs {name}{hint}")
    if "action" in required:
        try:
            ActionKind(str(fields["action"]))
        except ValueError:
            raise MissingFieldError(
                f"action {fields['action']!r} is not one of {', '.join(a.value for a in ActionKind)}"
            ) from None


def grade_rank(grade: AlertGrade | str) -> int:
    return AlertGrade(grade).rank


def matching(config: AlertConfig, signals: Sequence[Signal]) -> list[tuple[Signal, AlertRule, AlertGrade]]:
    """Every signal a rule matches, with its rule and grade; per alert key the strongest signal."""
    chosen: dict[str, tuple[Signal, AlertRule, AlertGrade]] = {}
    for signal in signals:
        found = config.match(signal)
        if found is None:
            continue
        rule, grade = found
        key = alert_key(rule.id, signal.node)
        if key not in chosen or (grade.rank, signal.probability) > (chosen[key][2].rank, chosen[key][0].probability):
            chosen[key] = (signal, rule, grade)
    return [chosen[k] for k in sorted(chosen)]
