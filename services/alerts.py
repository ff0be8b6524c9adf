"""Alerts and tasks as use cases: rules on signals open and escalate alerts, alerts open tasks,
tasks move through their states, critical alerts hold stock; all written as facts.

Alerts (``alert:{rule}@{node}``) and tasks (``task:{rule}@{node}``) are nodes. Every change
is a new version written through ``store.apply`` with its provenance (source
``alerts:{actor}``) and the props ``changed_by``, ``changed_at`` and ``reason``, so a node's
versions are its history. An alert is linked to what it is about by ``CONCERNS``, its task to
the alert, and the CAPA, nonconformance or change record a task opens to the concerned node
(``CONCERNS``; a change request ``AFFECTS`` it). A hold is a ``hold`` prop on the on-hand
devices and containers, set by the alert and cleared (``hold: null``) when its task closes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.port import GraphStore
from risk.alerts import (
    AlertConfig,
    AlertRule,
    alert_key,
    check_transition,
    load_config,
    matching,
    task_key,
)
from risk.recall import DEFAULT_THRESHOLD
from risk.signals.base import Signal
from schema.alerts import ActionKind, Alert, AlertGrade, AlertState, Change, Task, TaskState
from schema.errors import InvalidInputError, NotFoundError, TraceGraphError
from schema.kinds import EdgeType, NodeKind
from schema.model import BatchResult, EdgeFact, FactBatch, NodeFact, NodeView, Provenance, iso
from services import recall as recall_service
from services import signals as signal_service
from services.webhooks import Delivery, WebhookSender

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "tracegraph-rules"
_ALL = 1_000_000
_KEEP_DELIVERIES = 50

_RECORD_KINDS = {
    ActionKind.CAPA: (NodeKind.CAPA, "capa", EdgeType.CONCERNS),
    ActionKind.NONCONFORMANCE: (NodeKind.NONCONFORMANCE, "nc", EdgeType.CONCERNS),
    ActionKind.CHANGE_REQUEST: (NodeKind.CHANGE_RECORD, "change", EdgeType.AFFECTS),
}


@dataclass
class AlertRun:
    """What one evaluation of the rules did."""

    signals: int = 0
    opened: list[str] = field(default_factory=list)
    escalated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    held: dict[str, int] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    batch: BatchResult | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "signals": self.signals,
            "opened": self.opened,
            "escalated": self.escalated,
            "unchanged": len(self.unchanged),
            "held": self.held,
            "deliveries": [d.model_dump(mode="json") for d in self.deliveries],
        }


class _Writer:
    """Collects the facts of one change, applied as one batch."""

    def __init__(self, actor: str, now: datetime) -> None:
        self.actor = actor
        self.now = now
        self.nodes: list[NodeFact] = []
        self.edges: list[EdgeFact] = []

    @property
    def provenance(self) -> Provenance:
        return Provenance(source_system="tracegraph", source=f"alerts:{self.actor}")

    def node(self, key: str, kind: NodeKind, props: Mapping[str, Any], *, reason: str | None) -> None:
        stamped = {**props, "changed_by": self.actor, "changed_at": iso(self.now), "reason": reason}
        self.nodes.append(NodeFact(key=key, kind=kind, props=stamped, provenance=self.provenance))

    def plain(self, key: str, kind: NodeKind, props: Mapping[str, Any]) -> None:
        self.nodes.append(NodeFact(key=key, kind=kind, props=dict(props), provenance=self.provenance))

    def edge(self, type_: EdgeType, source: str, target: str) -> None:
        self.edges.append(EdgeFact(type=type_, source=source, target=target, at=self.now, provenance=self.provenance))

    def apply(self, store: GraphStore, source: str) -> BatchResult | None:
        if not self.nodes and not self.edges:
            return None
        return store.apply(FactBatch(source=source, nodes=tuple(self.nodes), edges=tuple(self.edges)))


def _view(store: GraphStore, key: str) -> NodeView | None:
    try:
        return store.node(key, edge_limit=0)
    except NotFoundError:
        return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _history(view: NodeView) -> tuple[Change, ...]:
    changes = []
    for version in view.versions:
        props = version.props
        changes.append(
            Change(
                at=_time(props.get("changed_at")) or version.recorded_at,
                by=str(props.get("changed_by") or version.provenance.source),
                state=str(props.get("state", "")),
                reason=props.get("reason"),
                fields=dict(props.get("step_fields") or {}),
            )
        )
    return tuple(changes)


def alert_from(view: NodeView) -> Alert:
    p = view.props
    return Alert(
        key=view.key,
        rule=str(p.get("rule", "")),
        node=str(p.get("node", "")),
        grade=AlertGrade(p.get("grade", AlertGrade.WATCH)),
        state=AlertState(p.get("state", AlertState.OPEN)),
        title=str(p.get("title", "")),
        summary=str(p.get("summary", "")),
        owner_role=str(p.get("owner_role", "")),
        owner=p.get("owner"),
        due_at=_time(p.get("due_at")),
        opened_at=_time(p.get("opened_at")) or view.versions[0].recorded_at,
        signal=str(p.get("signal", "")),
        signal_rule=str(p.get("signal_rule", "")),
        probability=float(p.get("probability", 0.0)),
        evidence=tuple(p.get("evidence") or ()),
        tasks=tuple(p.get("tasks") or ()),
        held=tuple(p.get("held") or ()),
        deliveries=tuple(p.get("deliveries") or ()),
        history=_history(view),
    )


def task_from(view: NodeView) -> Task:
    p = view.props
    return Task(
        key=view.key,
        alert=str(p.get("alert", "")),
        concerns=str(p.get("concerns", "")),
        title=str(p.get("title", "")),
        state=TaskState(p.get("state", TaskState.OPEN)),
        assignee=p.get("assignee"),
        role=str(p.get("role", "")),
        due_at=_time(p.get("due_at")),
        fields=dict(p.get("fields") or {}),
        records=tuple(p.get("records") or ()),
        history=_history(view),
    )


# -- evaluation ---------------------------------------------------------------------------------


def evaluate(
    store: GraphStore,
    config: AlertConfig | None = None,
    *,
    actor: str = SYSTEM_ACTOR,
    signals: Sequence[Signal] | None = None,
    now: datetime | None = None,
    sender: WebhookSender | None = None,
) -> AlertRun:
    """Run the rules on the store's signals: open new alerts (with their tasks), escalate
    alerts whose grade rose, hold stock for critical ones; one batch, or none if nothing changed."""
    config = config or load_config()
    now = now or datetime.now(UTC)
    sender = sender or WebhookSender(config.webhooks)
    if signals is None:
        options = signal_service.SignalOptions(critical=frozenset(config.critical))
        signals = signal_service.detect(store, options=options)
    run = AlertRun(signals=len(signals))
    writer = _Writer(actor, now)
    events: list[tuple[str, dict[str, Any]]] = []
    for signal, rule, grade in matching(config, signals):
        key = alert_key(rule.id, signal.node)
        view = _view(store, key)
        policy = config.grades[grade]
        # A rule with a regulatory deadline (an NMPA adverse-event report) counts it from the event.
        hours = rule.response_hours if rule.response_hours is not None else policy.response_hours
        since = signal.window.start if rule.clock_from == "signal" and signal.window and signal.window.start else now
        due = iso(since + timedelta(hours=hours))
        state = {
            "rule": rule.id,
            "node": signal.node,
            "grade": grade.value,
            "title": rule.title,
            "summary": signal.summary,
            "owner_role": policy.owner,
            "owner": config.assignee(policy.owner),
            "due_at": due,
            "signal": signal.id,
            "signal_rule": signal.rule,
            "probability": round(signal.probability, 6),
            "evidence": [e.key for e in signal.evidence[:50]],
        }
        if view is None:
            tkey = task_key(key)
            writer.node(
                key,
                NodeKind.ALERT,
                {**state, "state": AlertState.OPEN.value, "opened_at": iso(now), "tasks": [tkey]},
                reason=f"opened by rule {rule.id}: {signal.rule} ({signal.test})",
            )
            writer.edge(EdgeType.CONCERNS, key, signal.node)
            writer.node(
                tkey,
                NodeKind.TASK,
                {
                    "alert": key,
                    "concerns": signal.node,
                    "title": f"Investigate: {rule.title}",
                    "state": TaskState.OPEN.value,
                    "role": policy.owner,
                    "assignee": config.assignee(policy.owner),
                    "due_at": due,
                    "fields": {},
                    "records": [],
                },
                reason=f"opened with {key}",
            )
            writer.edge(EdgeType.CONCERNS, tkey, key)
            run.opened.append(key)
            events.append(("opened", {**state, "key": key, "state": AlertState.OPEN.value}))
            _maybe_hold(store, config, rule, grade, signal, key, writer, run, held=())
            continue
        before = alert_from(view)
        if grade.rank > before.grade.rank:
            reopened = before.state is AlertState.CLOSED
            writer.node(
                key,
                NodeKind.ALERT,
                {**state, "state": AlertState.OPEN.value},
                reason=("reopened and " if reopened else "")
                + f"escalated from {before.grade.value} to {grade.value}: {signal.summary}",
            )
            for tkey in before.tasks:
                task_view = _view(store, tkey)
                if task_view is not None and task_from(task_view).state is not TaskState.CLOSED:
                    writer.node(
                        tkey,
                        NodeKind.TASK,
                        {
                            **task_view.props,
                            "due_at": due,
                            "role": policy.owner,
                            "assignee": config.assignee(policy.owner),
                            "step_fields": {},
                        },
                        reason=f"{key} escalated to {grade.value}",
                    )
            run.escalated.append(key)
            events.append(("escalated", {**state, "key": key, "previous_grade": before.grade.value}))
            _maybe_hold(store, config, rule, grade, signal, key, writer, run, held=before.held)
        else:
            run.unchanged.append(key)
    run.batch = writer.apply(store, f"alerts: rules run by {actor}")
    for event, payload in events:
        deliveries = sender.send(event, {"alert": payload})
        run.deliveries.extend(deliveries)
        if deliveries:
            _log_deliveries(store, str(payload["key"]), deliveries, actor)
    return run


def _maybe_hold(
    store: GraphStore,
    config: AlertConfig,
    rule: AlertRule,
    grade: AlertGrade,
    signal: Signal,
    key: str,
    writer: _Writer,
    run: AlertRun,
    *,
    held: Sequence[str],
) -> None:
    """Hold the unshipped downstream stock of a critical alert (once)."""
    if not rule.hold_stock or grade.rank < config.hold_grade.rank or held:
        return
    try:
        scope = recall_service.scope(store, signal.seeds(), threshold=DEFAULT_THRESHOLD)
    except TraceGraphError as exc:  # a node that cannot be traced holds nothing, the alert stands
        log.warning("no hold for %s: %s", key, exc)
        return
    keys: dict[str, NodeKind] = {}
    for item in scope.on_hand:
        keys[item.device] = NodeKind.DEVICE
        if item.container:
            keys[item.container] = NodeKind.CONTAINER
    if not keys:
        return
    hold = {"alert": key, "since": iso(writer.now), "by": writer.actor}
    for stock, kind in sorted(keys.items()):
        writer.plain(stock, kind, {"hold": hold})
    for fact in writer.nodes:
        if fact.key == key:  # the alert remembers what it holds, to release it
            writer.nodes[writer.nodes.index(fact)] = fact.model_copy(
                update={"props": {**fact.props, "held": sorted(keys)}}
            )
    run.held[key] = len(keys)


def _log_deliveries(store: GraphStore, key: str, deliveries: Sequence[Delivery], actor: str) -> None:
    view = _view(store, key)
    if view is None:
        return
    log_ = list(view.props.get("deliveries") or [])
    log_ += [d.model_dump(mode="json") for d in deliveries]
    prov = Provenance(source_system="tracegraph", source=f"webhooks:{actor}")
    store.apply(
        FactBatch(
            source=f"webhooks: deliveries for {key}",
            nodes=(
                NodeFact(key=key, kind=NodeKind.ALERT, props={"deliveries": log_[-_KEEP_DELIVERIES:]}, provenance=prov),
            ),
        )
    )


# -- reading ------------------------------------------------------------------------------------


def _keys(store: GraphStore, prefix: str, kind: NodeKind) -> list[str]:
    return sorted(h.key for h in store.search(prefix, kinds=[kind], limit=_ALL) if h.kind is kind)


def alerts(
    store: GraphStore,
    *,
    state: AlertState | None = None,
    grade: AlertGrade | None = None,
    node: str | None = None,
) -> list[Alert]:
    """The alerts in the given state, of the given grade, about the given node (every one when
    not given), the open and most urgent first."""
    found = []
    for key in _keys(store, "alert:", NodeKind.ALERT):
        view = _view(store, key)
        if view is None:
            continue
        alert = alert_from(view)
        if (
            (state is None or alert.state is state)
            and (grade is None or alert.grade is grade)
            and (node is None or alert.node == node)
        ):
            found.append(alert)
    found.sort(key=lambda a: (a.state is AlertState.CLOSED, -a.grade.rank, a.due_at or a.opened_at, a.key))
    return found


def alert(store: GraphStore, key: str) -> Alert:
    view = _view(store, key)
    if view is None or view.kind is not NodeKind.ALERT:
        raise NotFoundError(f"no alert {key}")
    return alert_from(view)


def tasks(
    store: GraphStore,
    *,
    state: TaskState | None = None,
    assignee: str | None = None,
    concerns: str | None = None,
) -> list[Task]:
    """The tasks in the given state, of the given assignee, about the given node (every one when
    not given), the open and soonest due first."""
    found = []
    for key in _keys(store, "task:", NodeKind.TASK):
        view = _view(store, key)
        if view is None:
            continue
        t = task_from(view)
        if (
            (state is None or t.state is state)
            and (assignee is None or t.assignee == assignee)
            and (concerns is None or t.concerns == concerns)
        ):
            found.append(t)
    found.sort(key=lambda t: (t.state is TaskState.CLOSED, t.due_at or datetime.max.replace(tzinfo=UTC), t.key))
    return found


def task(store: GraphStore, key: str) -> Task:
    view = _view(store, key)
    if view is None or view.kind is not NodeKind.TASK:
        raise NotFoundError(f"no task {key}")
    return task_from(view)


# -- task transitions ---------------------------------------------------------------------------


def move_task(
    store: GraphStore,
    key: str,
    target: TaskState | str,
    fields: Mapping[str, Any] | None = None,
    *,
    actor: str,
    reason: str | None = None,
    config: AlertConfig | None = None,
    sender: WebhookSender | None = None,
    now: datetime | None = None,
) -> Task:
    """Move a task to ``target`` with the fields that step needs (IllegalTransitionError,
    MissingFieldError otherwise). Moving to ``action`` opens the CAPA, nonconformance or change
    record; closing closes the alert and releases the stock it held."""
    try:
        target = TaskState(target)
    except ValueError:
        raise InvalidInputError(
            f"unknown task state {target!r}; one of {', '.join(s.value for s in TaskState)}"
        ) from None
    fields = dict(fields or {})
    now = now or datetime.now(UTC)
    before = task(store, key)
    check_transition(before.state, target, fields)
    writer = _Writer(actor, now)
    merged = {**before.fields, **fields}
    records = list(before.records)
    if target is TaskState.ACTION and before.state is TaskState.INVESTIGATING:
        records.append(_open_record(writer, before, ActionKind(str(fields["action"])), merged))
    if target is TaskState.CLOSED:
        for record in records:
            view = _view(store, record)
            if view is not None:
                writer.node(
                    record,
                    view.kind,
                    {
                        **view.props,
                        "status": "closed",
                        "closed_at": iso(now),
                        "effectiveness_check": merged.get("effectiveness_check"),
                    },
                    reason=f"closed with {key}",
                )
    props = {
        "alert": before.alert,
        "concerns": before.concerns,
        "title": before.title,
        "state": target.value,
        "role": before.role,
        "assignee": before.assignee,
        "due_at": iso(before.due_at),
        "fields": merged,
        "records": records,
        "step_fields": fields,
    }
    why = reason or _default_reason(before.state, target, fields)
    writer.node(key, NodeKind.TASK, props, reason=why)
    closed_alert: Alert | None = None
    if target is TaskState.CLOSED:
        closed_alert = _close_alert(store, writer, before.alert, why)
    writer.apply(store, f"tasks: {key} {before.state.value} → {target.value} by {actor}")
    if closed_alert is not None:
        config = config or load_config()
        sender = sender or WebhookSender(config.webhooks)
        payload = {**closed_alert.to_json(), "state": AlertState.CLOSED.value, "reason": why}
        payload.pop("history", None)
        deliveries = sender.send("closed", {"alert": payload})
        if deliveries:
            _log_deliveries(store, closed_alert.key, deliveries, actor)
    return task(store, key)


def _default_reason(current: TaskState, target: TaskState, fields: Mapping[str, Any]) -> str:
    for name in ("justification", "effectiveness_check", "disposition", "root_cause"):
        if fields.get(name):
            return f"{current.value} → {target.value}: {name} {fields[name]}"
    return f"{current.value} → {target.value}"


def _open_record(writer: _Writer, t: Task, action: ActionKind, fields: Mapping[str, Any]) -> str:
    kind, prefix, edge = _RECORD_KINDS[action]
    record = f"{prefix}:" + t.key.removeprefix("task:")
    writer.node(
        record,
        kind,
        {
            "title": f"{action.value.replace('_', ' ')} for {t.concerns}",
            "status": "open",
            "root_cause": fields.get("root_cause"),
            "task": t.key,
            "alert": t.alert,
            "opened_at": iso(writer.now),
            "description": fields.get("description"),
        },
        reason=f"opened by {t.key}",
    )
    if t.concerns:
        writer.edge(edge, record, t.concerns)
    return record


def _close_alert(store: GraphStore, writer: _Writer, key: str, why: str) -> Alert | None:
    view = _view(store, key)
    if view is None:
        return None
    before = alert_from(view)
    writer.node(key, NodeKind.ALERT, {**view.props, "state": AlertState.CLOSED.value, "held": []}, reason=why)
    release = {"hold": None, "released_by": writer.actor, "released_at": iso(writer.now), "released_from": key}
    kinds = store.kinds(before.held)
    for stock in before.held:
        if stock in kinds:
            writer.plain(stock, kinds[stock], release)
    return before


def held_by(store: GraphStore, keys: Iterable[str]) -> dict[str, Any]:
    """The hold on each of ``keys`` (None when not held): what the stock's props say now."""
    out: dict[str, Any] = {}
    for key in keys:
        view = _view(store, key)
        out[key] = view.props.get("hold") if view is not None else None
    return out


def evaluate_after_load(store: GraphStore, result: BatchResult | None) -> None:
    """The load hook: run the packaged rules after a load that changed something.

    A failure here never undoes the load (it is committed); it is logged instead.
    """
    if result is None or result.already_loaded:
        return
    try:
        config = load_config()
        if config.on_load:
            evaluate(store, config)
    except TraceGraphError as exc:
        log.warning("alert rules after load failed: %s", exc)
