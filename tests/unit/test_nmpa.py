"""NMPA duties: recall clocks (working days), retention of distribution records, adverse-event
clocks as alert deadlines, the recall's clocks as tasks, and the facts file."""

from __future__ import annotations

import doctest
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import risk.nmpa
from loaders.base import ParseResult
from risk.nmpa import (
    ClockKind,
    RecallClass,
    add_working_days,
    adverse_event_clocks,
    recall_clocks,
    retention,
)
from schema.alerts import TaskState
from schema.errors import InvalidInputError
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeFact, NodeFact, Provenance
from services import nmpa as nmpa_service
from services.app import Services
from services.settings import Settings

FRIDAY = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(risk.nmpa, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed


@pytest.mark.parametrize(("klass", "days"), [(RecallClass.FIRST, 1), (RecallClass.SECOND, 3), (RecallClass.THIRD, 7)])
def test_each_class_notifies_and_reports_on_its_own_clock(klass: RecallClass, days: int) -> None:
    due = {c.kind: c.due for c in recall_clocks(klass, FRIDAY)}
    assert due[ClockKind.REPORT_REGULATOR] == FRIDAY
    assert due[ClockKind.NOTIFY_CONSIGNEES] == FRIDAY + timedelta(days=days)
    assert due[ClockKind.PROGRESS_REPORT] == FRIDAY + timedelta(days=days)
    # Five working days from a Friday: Monday to Friday of the next week.
    assert due[ClockKind.RECALL_PLAN] == due[ClockKind.INVESTIGATION_REPORT] == datetime(2024, 3, 8, 9, tzinfo=UTC)


def test_working_days_skip_weekends_and_the_configured_holidays() -> None:
    # National Day 2024: 1-7 October off, Sunday 29 September and Saturday 12 October worked.
    holidays = {date(2024, 10, d) for d in range(1, 8)}
    workdays = {date(2024, 9, 29), date(2024, 10, 12)}
    start = datetime(2024, 9, 27, 17, 0)  # a Friday
    assert add_working_days(start, 5) == datetime(2024, 10, 4, 17, 0)
    assert add_working_days(start, 5, holidays=holidays, workdays=workdays) == datetime(2024, 10, 10, 17, 0)
    assert add_working_days(start, 0) == start
    with pytest.raises(InvalidInputError):
        add_working_days(start, -1)


@pytest.mark.parametrize(
    ("given", "expected"), [("1", RecallClass.FIRST), ("二级", RecallClass.SECOND), ("III", RecallClass.THIRD)]
)
def test_recall_classes_parse_in_either_language(given: str, expected: RecallClass) -> None:
    assert RecallClass.parse(given) is expected


def test_an_unknown_recall_class_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="recall class must be 1, 2 or 3, not 4"):
        RecallClass.parse("4")


def test_retention_rules() -> None:
    recorded = date(2024, 1, 25)
    assert retention(expiry=date(2027, 1, 21), recorded=recorded).keep_until == date(2029, 1, 21)
    assert retention(expiry=date(2028, 2, 29), recorded=recorded).keep_until == date(2030, 2, 28)
    assert retention(expiry=None, recorded=recorded).keep_until == date(2029, 1, 25)
    assert retention(expiry=date(2027, 1, 21), recorded=recorded, implant=True).keep_until is None


def test_adverse_event_clocks() -> None:
    def rules(**kw: object) -> list[str]:
        return [c.rule for c in adverse_event_clocks(**kw)]  # type: ignore[arg-type]

    assert rules(outcome="death", country="CN", cluster=False) == ["adverse_event.death"]
    assert rules(outcome="严重伤害", country=None, cluster=False) == ["adverse_event.serious_injury"]
    assert rules(outcome="death", country="DE", cluster=False) == ["adverse_event.abroad"]
    assert rules(outcome="malfunction", country="CN", cluster=False) == []
    assert rules(outcome=None, country="CN", cluster=True) == [
        "adverse_event.cluster",
        "adverse_event.cluster.cases",
        "adverse_event.cluster.investigation",
    ]


def _services(tmp_path: Path) -> Services:
    return Services.build(Settings(store=f"sqlite:///{tmp_path / 'nmpa.db'}"), migrate=True, actor="test:nmpa")


def _load(services: Services, nodes: list[NodeFact], edges: list[EdgeFact] = ()) -> None:  # type: ignore[assignment]
    parsed = ParseResult(nodes=nodes, edges=list(edges), records=len(nodes))
    services.load_parsed(parsed, source="test", content_hash=None)


PROV = Provenance(source_system="test", source="complaints.csv")


def test_adverse_events_become_alerts_due_when_the_report_is(tmp_path: Path) -> None:
    services = _services(tmp_path)
    try:
        received = "2024-05-02T10:00:00Z"
        device = "01/09506000134352/21/SN1"
        _load(
            services,
            [
                NodeFact(key=device, kind=NodeKind.DEVICE, props={}, provenance=PROV),
                NodeFact(
                    key="complaint:C-1",
                    kind=NodeKind.COMPLAINT,
                    props={"outcome": "death", "country": "CN", "received_at": received, "device": device},
                    provenance=PROV,
                ),
                NodeFact(
                    key="complaint:C-2",
                    kind=NodeKind.COMPLAINT,
                    props={"outcome": "malfunction", "cluster": "CL-1", "received_at": received},
                    provenance=PROV,
                ),
                NodeFact(key="complaint:C-3", kind=NodeKind.COMPLAINT, props={"outcome": "none"}, provenance=PROV),
            ],
        )
        found = services.nmpa_adverse_events(run=True)
        assert sorted(s.rule for s in found.signals) == [
            "adverse_event.cluster",
            "adverse_event.cluster.cases",
            "adverse_event.cluster.investigation",
            "adverse_event.death",
        ]
        assert found.run is not None and len(found.run.opened) == 4
        due = {a.rule: a.due_at for a in services.alerts()}
        start = datetime(2024, 5, 2, 10, tzinfo=UTC)
        assert due["nmpa-ae-death"] == start + timedelta(days=7)
        assert due["nmpa-ae-cluster"] == start + timedelta(hours=12)
        assert due["nmpa-ae-cluster-cases"] == start + timedelta(hours=24)
        assert due["nmpa-ae-cluster-investigation"] == start + timedelta(days=7)
        again = services.nmpa_adverse_events(run=True)
        assert again.run is not None and not again.run.opened  # one alert per clock and complaint
    finally:
        services.close()


def test_a_recall_is_tracked_as_tasks_due_on_its_clocks(tmp_path: Path) -> None:
    services = _services(tmp_path)
    try:
        lot = "01/09506000134352/10/L1"
        _load(services, [NodeFact(key=lot, kind=NodeKind.PRODUCT_LOT, props={}, provenance=PROV)])
        clocks = recall_clocks(RecallClass.SECOND, FRIDAY)
        alert, keys = services.track_nmpa_recall(lot, RecallClass.SECOND, clocks)
        tasks = {t.key: t for t in services.tasks()}
        assert set(keys) <= tasks.keys() and len(keys) == len(clocks)
        assert {tasks[k].due_at for k in keys} == {c.due for c in clocks}
        assert services.alert(alert).tasks == tuple(keys)
        moved = services.move_task(keys[0], TaskState.INVESTIGATING, reason="started")
        assert moved.state is TaskState.INVESTIGATING
        assert services.track_nmpa_recall(lot, RecallClass.SECOND, clocks) == (alert, keys)  # recorded once
    finally:
        services.close()


def test_distribution_records_carry_what_the_rules_require(tmp_path: Path) -> None:
    services = _services(tmp_path)
    try:
        gtin = "09506000134352"
        devices = [f"01/{gtin}/21/S{i}" for i in range(3)]
        lot = f"01/{gtin}/10/L1"
        props = {"gtin": gtin, "lot": "L1", "expiry": "2026-06-30"}
        nodes = [NodeFact(key=lot, kind=NodeKind.PRODUCT_LOT, props={"part": "part:IMPLANT"}, provenance=PROV)]
        nodes += [
            NodeFact(key=d, kind=NodeKind.DEVICE, props={**props, "serial": d[-2:]}, provenance=PROV) for d in devices
        ]
        nodes += [
            NodeFact(key="414/4012345000016", kind=NodeKind.CONSIGNEE, props={"name": "Hospital"}, provenance=PROV),
            NodeFact(
                key="shipment:S-1",
                kind=NodeKind.SHIPMENT,
                props={"shipped_at": "2024-01-05T08:00:00Z", "consignee": "414/4012345000016"},
                provenance=PROV,
            ),
        ]
        at = datetime(2024, 1, 5, 8, tzinfo=UTC)
        edges = [
            EdgeFact(type=EdgeType.SHIPPED_IN, source=d, target="shipment:S-1", at=at, provenance=PROV) for d in devices
        ]
        edges.append(
            EdgeFact(
                type=EdgeType.DELIVERED_TO, source="shipment:S-1", target="414/4012345000016", at=at, provenance=PROV
            )
        )
        _load(services, nodes, edges)
        facts = nmpa_service.NmpaFacts.model_validate(
            {
                "products": {"part:IMPLANT": {"name": "骨板", "model": "BP-1", "implant": True}},
                "consignees": {"414/4012345000016": {"licence": "沪食药监械经营许20240001号"}},
            }
        )
        (record,) = services.distribution_records(facts)
        assert (record.product, record.model, record.lot, record.quantity) == ("骨板", "BP-1", "L1", 3)
        assert record.consignee_licence == "沪食药监械经营许20240001号" and record.expiry == "2026-06-30"
        assert record.keep_until is None and record.implant  # an implant: for ever
        check = nmpa_service.retention_check([record], on=date(2100, 1, 1))
        assert check.keep == (record,) and not check.may_purge
        plain = services.distribution_records(nmpa_service.NmpaFacts())[0]
        assert plain.keep_until == "2028-06-30" and plain.consignee_licence is None
        assert nmpa_service.retention_check([plain], on=date(2028, 7, 1)).may_purge == (plain,)
    finally:
        services.close()


def test_a_bad_facts_file_is_a_clear_error(tmp_path: Path) -> None:
    assert nmpa_service.load_facts(None) == nmpa_service.NmpaFacts()
    path = tmp_path / "facts.yaml"
    path.write_text("nmpa:\n  company: {nmae: typo}\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match=r"nmpa: company.nmae"):
        nmpa_service.load_facts(path)
    path.write_text("nmpa: [1, 2\n", encoding="utf-8")
    with pytest.raises(InvalidInputError, match="not YAML"):
        nmpa_service.load_facts(path)
    with pytest.raises(InvalidInputError, match="cannot read"):
        nmpa_service.load_facts(tmp_path / "absent.yaml")
