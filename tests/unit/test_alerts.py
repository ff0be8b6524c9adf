"""Alert rules, the task state machine, holds and webhooks, on a temporary SQLite store."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from graph.sqlite.store import SQLiteStore
from risk.alerts import AlertConfig, check_transition, load_config
from risk.signals.base import Severity, Signal
from schema.alerts import AlertGrade, AlertState, IllegalTransitionError, MissingFieldError, TaskState
from schema.audit import AuditAction
from schema.errors import InvalidInputError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeFact, FactBatch, NodeFact, TraceDirection
from services import alerts as alert_service
from services.app import Services
from services.settings import Settings
from services.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookSender, verify
from tests.factories import batch, device, edge, gln, lot, node, sscc, t

LOT = "lot:R-ALERT-1"
WO = "wo:WO-ALERT-1"
PRODUCT_LOT = lot("L-ALERT", 2)
SHIPPED, ON_HAND = device("S1", 2), device("S2", 2)
CASE_SHIPPED, CASE_ON_HAND = sscc(901), sscc(902)
HOSPITAL = gln(901)
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)


def plant(*, failures: int = 1) -> FactBatch:
    """A lot that failed incoming inspection (``failures`` times) yet was consumed: one of its
    devices has shipped to a hospital, the other is still on hand in a case."""
    facts: list[NodeFact | EdgeFact] = [
        node(LOT, K.MATERIAL_LOT, part="part:X", supplier="supplier:S", received_at="2024-01-01T00:00:00Z"),
        node(WO, K.WORK_ORDER, site="Plant 1"),
        node(PRODUCT_LOT, K.PRODUCT_LOT),
        node(SHIPPED, K.DEVICE),
        node(ON_HAND, K.DEVICE),
        node(CASE_SHIPPED, K.CONTAINER),
        node(CASE_ON_HAND, K.CONTAINER),
        node("shipment:SH-1", K.SHIPMENT),
        node(HOSPITAL, K.CONSIGNEE, name="St. Mary", country="CH"),
        edge(E.CONSUMED_BY, LOT, WO, at=t(1), quantity=10),
        edge(E.PRODUCED, WO, PRODUCT_LOT, at=t(2)),
        edge(E.INCLUDES, PRODUCT_LOT, SHIPPED),
        edge(E.INCLUDES, PRODUCT_LOT, ON_HAND),
        edge(E.PACKED_IN, SHIPPED, CASE_SHIPPED, at=t(3)),
        edge(E.PACKED_IN, ON_HAND, CASE_ON_HAND, at=t(3)),
        edge(E.SHIPPED_IN, CASE_SHIPPED, "shipment:SH-1", at=t(4)),
        edge(E.DELIVERED_TO, "shipment:SH-1", HOSPITAL, at=t(5)),
    ]
    for n in range(failures):
        key = f"inspection:INC-ALERT-{n}"
        facts.append(node(key, K.INSPECTION, type="incoming", result="fail", target=LOT, at="2024-01-01T01:00:00Z"))
        facts.append(edge(E.INSPECTED, key, LOT, at=t(0.5)))
    return batch(*facts)


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    s = Services.build(Settings(store=f"sqlite:///{tmp_path / 'alerts.db'}"), migrate=True, actor="alice")
    s.store.apply(plant())
    yield s
    s.close()


def test_the_packaged_rules_cover_the_four_grades() -> None:
    config = load_config()
    assert set(config.grades) == set(AlertGrade)
    assert {r.grade for r in config.rules} | {s.grade for r in config.rules for s in r.escalate} == set(AlertGrade)
    assert config.people[config.grades[AlertGrade.CRITICAL].owner]


def test_a_bad_rules_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "alerts.yaml"
    bad.write_text("grades: {}\nrules: [{id: X, grade: nope}]\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"alerts\.yaml"):
        load_config(bad)


def signal(rule: str, p: float, severity: Severity = Severity.HIGH) -> Signal:
    return Signal(id="sig-x", rule=rule, test="t", node="lot:A", probability=p, severity=severity, summary="s")


def test_rules_match_in_order_and_escalate_with_the_evidence() -> None:
    config = load_config()
    rule, grade = config.match(signal("complaints.lot", 0.5)) or (None, None)
    assert rule is not None and (rule.id, grade) == ("complaint-cluster", AlertGrade.WARNING)
    assert config.match(signal("complaints.lot", 0.75))[1] is AlertGrade.CRITICAL  # type: ignore[index]
    top = config.match(signal("complaints.component_lot", 0.9, Severity.CRITICAL))
    assert top is not None and top[1] is AlertGrade.RECALL_CANDIDATE
    assert config.match(signal("complaints.lot", 0.3)) is None
    assert config.match(signal("no.such.rule", 1.0)) is None


@pytest.mark.parametrize(
    ("current", "target", "fields", "error"),
    [
        (TaskState.OPEN, TaskState.ACTION, {}, IllegalTransitionError),
        (TaskState.CLOSED, TaskState.OPEN, {}, IllegalTransitionError),
        (TaskState.INVESTIGATING, TaskState.ACTION, {"action": "capa"}, MissingFieldError),
        (TaskState.INVESTIGATING, TaskState.ACTION, {"root_cause": "x", "action": "pray"}, MissingFieldError),
        (TaskState.ACTION, TaskState.VERIFICATION, {"disposition": " "}, MissingFieldError),
        (TaskState.VERIFICATION, TaskState.CLOSED, {}, MissingFieldError),
    ],
)
def test_illegal_moves_are_typed_errors(
    current: TaskState, target: TaskState, fields: dict[str, str], error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_transition(current, target, fields)


def test_a_critical_alert_opens_a_task_and_holds_only_unshipped_stock(services: Services) -> None:
    run = alert_service.evaluate(services.store, now=NOW)
    key = "alert:escaped-lot@" + LOT
    assert key in run.opened
    alert = services.alert(key)
    assert alert.grade is AlertGrade.CRITICAL and alert.state is AlertState.OPEN
    assert alert.owner == "quality.manager@example.com" and alert.due_at == NOW + timedelta(hours=24)
    (task_key,) = alert.tasks
    task = services.task(task_key)
    assert task.state is TaskState.OPEN and task.assignee == alert.owner and task.concerns == LOT
    assert set(alert.held) == {ON_HAND, CASE_ON_HAND}
    held = alert_service.held_by(services.store, [ON_HAND, CASE_ON_HAND, SHIPPED])
    assert held[ON_HAND]["alert"] == key and held[SHIPPED] is None
    # The alert and its task are linked into the graph.
    hops = services.store.expand([key, task_key], TraceDirection.FORWARD)
    assert {(s.type, s.neighbour) for s in hops[key]} == {(E.CONCERNS, LOT)}
    assert {(s.type, s.neighbour) for s in hops[task_key]} == {(E.CONCERNS, key)}


def test_the_same_condition_updates_one_alert_and_writes_nothing_when_unchanged(services: Services) -> None:
    alert_service.evaluate(services.store, now=NOW)
    batches = services.stats().batches
    again = alert_service.evaluate(services.store, now=NOW + timedelta(hours=1))
    assert again.opened == [] and again.escalated == [] and again.batch is None
    assert services.stats().batches == batches
    assert len([a for a in services.alerts() if a.node == LOT]) == 1


def test_a_stronger_signal_escalates_the_same_alert(services: Services, tmp_path: Path) -> None:
    config = AlertConfig.model_validate(
        {
            **load_config().model_dump(mode="json"),
            "rules": [
                {
                    "id": "failed-lot",
                    "title": "Failed lot",
                    "when": {"rule": "inspection.fail"},
                    "grade": "warning",
                    "escalate": [{"min_probability": 0.9, "grade": "recall-candidate"}],
                }
            ],
        }
    )
    first = alert_service.evaluate(services.store, config, now=NOW)
    assert first.opened == ["alert:failed-lot@" + LOT]
    services.store.apply(plant(failures=2))  # a second failed inspection: P 0.7 -> 0.91
    second = alert_service.evaluate(services.store, config, now=NOW + timedelta(hours=2))
    assert second.escalated == ["alert:failed-lot@" + LOT] and second.opened == []
    alert = services.alert("alert:failed-lot@" + LOT)
    assert alert.grade is AlertGrade.RECALL_CANDIDATE and alert.owner == "recall.manager@example.com"
    assert [c.reason.split(":")[0] for c in alert.history if c.reason] == [
        "opened by rule failed-lot",
        "escalated from warning to recall-candidate",
    ]
    assert services.task(alert.tasks[0]).due_at == NOW + timedelta(hours=2 + 4)


def test_a_task_moves_to_closed_with_the_fields_each_step_needs(services: Services) -> None:
    alert_service.evaluate(services.store, now=NOW)
    key = "task:escaped-lot@" + LOT
    with pytest.raises(IllegalTransitionError):
        services.move_task(key, "closed")
    services.move_task(key, "investigating", reason="on it")
    with pytest.raises(MissingFieldError):
        services.move_task(key, "action", {"action": "capa"})
    task = services.move_task(key, "action", {"root_cause": "released under deviation by mistake", "action": "capa"})
    (capa,) = task.records
    assert capa.startswith("capa:") and services.node(capa).kind is K.CAPA
    assert {(s.type, s.neighbour) for s in services.store.expand([capa], TraceDirection.FORWARD)[capa]} == {
        (E.CONCERNS, LOT)
    }
    services.move_task(key, "verification", {"disposition": "quarantine and scrap on-hand stock"})
    held_before = alert_service.held_by(services.store, [ON_HAND])
    assert held_before[ON_HAND] is not None
    task = services.move_task(key, "closed", {"effectiveness_check": "no escape in 3 months of receipts"})
    assert task.state is TaskState.CLOSED
    assert task.fields["root_cause"] == "released under deviation by mistake"
    assert [c.state for c in task.history] == ["open", "investigating", "action", "verification", "closed"]
    assert all(c.by == "alice" for c in task.history[1:])
    assert task.history[-1].fields == {"effectiveness_check": "no escape in 3 months of receipts"}
    # Closing is the decision that closes the alert and releases its hold.
    alert = services.alert("alert:escaped-lot@" + LOT)
    assert alert.state is AlertState.CLOSED and alert.held == ()
    assert alert_service.held_by(services.store, [ON_HAND, CASE_ON_HAND]) == {ON_HAND: None, CASE_ON_HAND: None}
    assert services.node(capa).props["status"] == "closed"
    with pytest.raises(IllegalTransitionError):
        services.move_task(key, "investigating")
    # Every transition is in the audit trail too.
    actions = [json.loads(r.text)["action"] for r in services.audit_trail().rows()]
    assert actions.count(AuditAction.TASK_TRANSITION.value) == 4
    assert AuditAction.ALERT_TRANSITION.value in actions


# -- webhooks ---------------------------------------------------------------------------------


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records what it receives and answers from a script."""

    def __init__(self, answers: list[int]) -> None:
        self.answers = answers
        self.received: list[tuple[dict[str, str], bytes]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = outer.answers.pop(0) if outer.answers else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def hook_config(url: str, **hook: Any) -> AlertConfig:
    data = load_config().model_dump(mode="json")
    data["webhooks"] = [{"url": url, "secret_env": "HOOK_SECRET", "backoff": 0.01, **hook}]
    return AlertConfig.model_validate(data)


def test_webhooks_are_signed_retried_and_logged(services: Services) -> None:
    sleeps: list[float] = []
    with Receiver([500, 503, 200]) as receiver:
        config = hook_config(receiver.url)
        sender = WebhookSender(config.webhooks, environ={"HOOK_SECRET": "s3cret"}, sleep=sleeps.append)
        run = alert_service.evaluate(services.store, config, now=NOW, sender=sender)
    opened = [d for d in run.deliveries if d.event == "alert.opened"]
    assert opened and opened[0].ok and opened[0].attempts == 3 and opened[0].status == 200
    assert sleeps[:2] == [0.01, 0.02]  # backoff doubles
    headers, body = receiver.received[2]
    stamp, signature = headers[TIMESTAMP_HEADER.lower()], headers[SIGNATURE_HEADER.lower()]
    assert signature.startswith("sha256=") and verify(b"s3cret", stamp, body, signature)
    assert not verify(b"wrong", stamp, body, signature)
    assert not verify(b"s3cret", stamp, body + b" ", signature)
    payload = json.loads(body)
    assert payload["event"] == "alert.opened" and payload["alert"]["node"]
    # The three tries are one delivery (one id), logged on the alert.
    assert len({h["x-tracegraph-delivery"] for h, _ in receiver.received[:3]}) == 1
    alert = services.alert(str(payload["alert"]["key"]))
    assert alert.deliveries and alert.deliveries[0]["ok"] is True and alert.deliveries[0]["attempts"] == 3


def test_a_client_error_is_not_retried_and_a_dead_hook_fails_after_its_attempts(services: Services) -> None:
    with Receiver([400]) as receiver:
        sender = WebhookSender(hook_config(receiver.url).webhooks, environ={}, sleep=lambda _s: None)
        (delivery,) = sender.send("opened", {"alert": {"key": "alert:x"}})
        assert (delivery.ok, delivery.status, delivery.attempts) == (False, 400, 1)
        assert SIGNATURE_HEADER.lower() not in receiver.received[0][0]  # no secret, no signature
    dead = hook_config("http://127.0.0.1:9/hook", attempts=2, timeout=0.5).webhooks
    (delivery,) = WebhookSender(dead, environ={}, sleep=lambda _s: None).send("closed", {"alert": {}})
    assert (delivery.ok, delivery.status, delivery.attempts) == (False, None, 2) and delivery.error


def test_closing_a_task_sends_the_closed_event(services: Services) -> None:
    with Receiver([]) as receiver:
        config = hook_config(receiver.url)
        sender = WebhookSender(config.webhooks, environ={"HOOK_SECRET": "k"}, sleep=lambda _s: None)
        alert_service.evaluate(services.store, config, now=NOW, sender=sender)
        key = "task:escaped-lot@" + LOT
        for state, fields in (
            ("investigating", {}),
            ("closed", {"root_cause": "paperwork error", "justification": "lot was re-inspected and passed"}),
        ):
            alert_service.move_task(services.store, key, state, fields, actor="bob", config=config, sender=sender)
    events = [json.loads(body)["event"] for _h, body in receiver.received]
    assert events.count("alert.opened") >= 1 and events[-1] == "alert.closed"


def test_rules_run_after_a_load_through_ingest(tmp_path: Path) -> None:
    from loaders.synthetic import generate_plant

    generate_plant(tmp_path / "plant", scale="small", seed=3)
    services = Services.build(Settings(store=f"sqlite:///{tmp_path / 'load.db'}"), migrate=True)
    try:
        services.load_paths([tmp_path / "plant"])
        alerts = services.alerts()
        assert any(a.rule == "escaped-lot" for a in alerts), [a.key for a in alerts]
        batches = services.stats().batches
        services.load_paths([tmp_path / "plant"])  # the same input again: no load, no rules run
        assert services.stats().batches == batches
    finally:
        services.close()


def test_an_unreadable_store_never_breaks_a_load(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    store.migrate()
    alert_service.evaluate_after_load(store, None)  # nothing applied: nothing to do
    store.close()
