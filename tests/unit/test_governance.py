"""Governance checks on hand-made facts in a real (temporary) SQLite store: each check has a
case that triggers it and one that does not; findings name keys and source records."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from pathlib import Path

import pytest

from schema.kinds import EdgeType as E
from schema.model import EdgeFact, EdgeOp, NodeFact, Provenance
from services import governance
from services.app import Services
from services.governance import Finding, QualityReport
from services.settings import Settings
from tests.factories import batch, device, edge, lot, node, sscc, t


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    built = Services.build(Settings(store=f"sqlite:///{tmp_path / 's.db'}"), migrate=True)
    yield built
    built.close()


def sourced(fact: NodeFact | EdgeFact, source: str, system: str = "erp", line: int = 1) -> NodeFact | EdgeFact:
    """The fact as read from ``source`` (a file of ``system``) at ``line``."""
    return fact.model_copy(update={"provenance": Provenance(source_system=system, source=source, line=line)})


def load(services: Services, *facts: NodeFact | EdgeFact, **kwargs: object) -> None:
    services.store.apply(batch(*facts, **kwargs))  # type: ignore[arg-type]


def findings(report: QualityReport, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def test_an_empty_store_has_no_findings(services: Services) -> None:
    report = services.quality()
    assert report.findings == () and report.sources == ()


# -- key variants --------------------------------------------------------------------------


def test_one_lot_spelled_two_ways_across_sources(services: Services) -> None:
    load(
        services,
        sourced(node("lot:R-2"), "erp-receipts.csv", "erp", 4),
        sourced(node("lot:r 02"), "coa.xlsx!CoA", "supplier", 7),
        sourced(node("lot:R-20"), "erp-receipts.csv", "erp", 5),  # another lot: 20 is not 2
        node(lot("L01")),
        node(lot("l-1")),
        node(lot("L01", item=2)),  # another GTIN: another lot
    )
    found = findings(services.quality(), "key_variants")
    assert [f.keys for f in found] == [(lot("L01"), lot("l-1")), ("lot:R-2", "lot:r 02")]
    first = found[1]
    assert first.severity == "warning" and "from coa.xlsx!CoA, erp-receipts.csv" in first.message
    assert {(r.source, r.line) for r in first.records} == {("erp-receipts.csv", 4), ("coa.xlsx!CoA", 7)}


def test_distinct_lots_are_not_variants(services: Services) -> None:
    load(services, node("lot:R-1"), node("lot:R-10"), node("plot:R-1"), node("wo:R-1"))
    assert findings(services.quality(), "key_variants") == []


# -- material balance ------------------------------------------------------------------------


def test_a_lot_consumed_but_never_received(services: Services) -> None:
    load(
        services,
        node("lot:A"),
        sourced(edge(E.CONSUMED_BY, "lot:A", "wo:1", at=t(1), quantity=2, unit="kg"), "mes.xlsx!G", "mes", 3),
        edge(E.SUPPLIED, "supplier:S", "lot:B", at=t(0), quantity=5, unit="kg"),
        edge(E.CONSUMED_BY, "lot:B", "wo:1", at=t(1), quantity=2, unit="kg"),
    )
    (finding,) = findings(services.quality(), "consumed_not_received")
    assert finding.keys == ("lot:A", "wo:1") and finding.severity == "error"
    assert [(r.source, r.line) for r in finding.records] == [("mes.xlsx!G", 3)]


def test_a_lot_consumed_more_than_received_in_any_units(services: Services) -> None:
    load(
        services,
        edge(E.SUPPLIED, "supplier:S", "lot:OVER", at=t(0), quantity=10, unit="kg"),
        edge(E.CONSUMED_BY, "lot:OVER", "wo:1", at=t(1), quantity=6, unit="kg"),
        edge(E.CONSUMED_BY, "lot:OVER", "wo:2", at=t(2), quantity=4500, unit="g"),
        edge(E.SUPPLIED, "supplier:S", "lot:OK", at=t(0), quantity=10, unit="kg"),
        edge(E.CONSUMED_BY, "lot:OK", "wo:1", at=t(1), quantity=6, unit="kg"),
        edge(E.CONSUMED_BY, "lot:OK", "wo:2", at=t(2), quantity=4000, unit="g"),
        # the receipt's quantity on the lot itself, consumption without a unit: taken as the lot's
        node("lot:NODE", quantity=3, unit="L"),
        edge(E.SUPPLIED, "supplier:S", "lot:NODE", at=t(0)),
        edge(E.CONSUMED_BY, "lot:NODE", "wo:1", at=t(1), quantity=3.5),
        edge(E.SUPPLIED, "supplier:S", "lot:MIXED", at=t(0), quantity=10, unit="kg"),
        edge(E.CONSUMED_BY, "lot:MIXED", "wo:1", at=t(1), quantity=3, unit="L"),
    )
    report = services.quality()
    over = findings(report, "over_consumed")
    assert [f.keys[0] for f in over] == ["lot:NODE", "lot:OVER"]
    assert over[1].message == "lot:OVER: 10.5 kg consumed by 2 issue(s), but 10 kg received"
    assert over[1].keys == ("lot:OVER", "wo:1", "wo:2") and len(over[1].records) == 3
    (mixed,) = findings(report, "units_incomparable")
    assert mixed.keys == ("lot:MIXED",) and mixed.severity == "info"


# -- events out of order --------------------------------------------------------------------


def test_events_out_of_order(services: Services) -> None:
    d1, d2, case, pallet = device("D1"), device("D2"), sscc(1), sscc(2)
    load(
        services,
        # D1 packed before it was produced; D2 in order.
        edge(E.PRODUCED, "wo:1", d1, at=t(5)),
        edge(E.PACKED_IN, d1, case, at=t(4)),
        edge(E.PRODUCED, "wo:1", d2, at=t(5)),
        edge(E.PACKED_IN, d2, case, at=t(6)),
        # the pallet shipped before anything was packed into it; the case in order
        edge(E.PACKED_IN, case, pallet, at=t(10)),
        edge(E.SHIPPED_IN, pallet, "shipment:1", at=t(9)),
        edge(E.SHIPPED_IN, case, "shipment:2", at=t(20)),
        # delivered before it was shipped
        edge(E.DELIVERED_TO, "shipment:2", "consignee:H", at=t(19)),
        # consumed before it was received; another lot in order
        edge(E.SUPPLIED, "supplier:S", "lot:EARLY", at=t(3)),
        edge(E.CONSUMED_BY, "lot:EARLY", "wo:1", at=t(2)),
        edge(E.SUPPLIED, "supplier:S", "lot:LATE", at=t(1)),
        edge(E.CONSUMED_BY, "lot:LATE", "wo:1", at=t(2)),
        # a product lot consumed before it was produced
        edge(E.PRODUCED, "wo:0", "plot:SUB", at=t(8)),
        edge(E.CONSUMED_BY, "plot:SUB", "wo:1", at=t(7)),
        # unpacked before packed (as an EPCIS unpacking with a wrong clock can say)
        edge(E.PACKED_IN, device("D3"), sscc(3), at=t(30), until=t(29)),
    )
    messages = [f.message for f in findings(services.quality(), "out_of_order")]
    reasons = sorted(m.rsplit("(", 1)[1].rstrip(")") for m in messages)
    assert reasons == [
        "consumed before produced",
        "consumed before received",
        "delivered before shipped",
        "packed before produced",
        "shipped before packed",
        "unpacked before packed",
    ]
    packed = next(m for m in messages if m.endswith("(packed before produced)"))
    assert packed.startswith(f"{d1}: {d1} PACKED_IN {case} at 2024-01-01T04:00:00Z, before wo:1 PRODUCED {d1}")


def test_events_in_order_and_timeless_facts_are_fine(services: Services) -> None:
    d1, case = device("D1"), sscc(1)
    load(
        services,
        edge(E.SUPPLIED, "supplier:S", "lot:A", at=t(0)),
        edge(E.CONSUMED_BY, "lot:A", "wo:1", at=t(1)),
        edge(E.PRODUCED, "wo:1", d1, at=t(2)),
        edge(E.PACKED_IN, d1, case, at=t(3), until=t(8)),
        edge(E.SHIPPED_IN, case, "shipment:1", at=t(4)),
        edge(E.DELIVERED_TO, "shipment:1", "consignee:H", at=t(6)),
        edge(E.PRODUCED, "wo:1", device("D2")),  # no time: nothing to compare
        edge(E.PACKED_IN, device("D2"), case, at=t(1)),
        # a reused case shipped again after new contents were packed: not "before packed"
        edge(E.PACKED_IN, device("D4"), case, at=t(12)),
        edge(E.SHIPPED_IN, case, "shipment:2", at=t(13)),
    )
    assert findings(services.quality(), "out_of_order") == []


# -- devices without a lot --------------------------------------------------------------------


def test_devices_without_a_lot(services: Services) -> None:
    load(
        services,
        node(device("LONE")),
        edge(E.INCLUDES, lot("L1"), device("IN-LOT")),
        node(sscc(1)),  # containers are not devices
    )
    (finding,) = findings(services.quality(), "device_without_lot")
    assert finding.keys == (device("LONE"),) and finding.severity == "warning"


# -- history, scores, filter ------------------------------------------------------------------


def test_retracted_and_withdrawn_facts_raise_no_findings(services: Services) -> None:
    consume = edge(E.CONSUMED_BY, "lot:A", "wo:1", at=t(1), record_id="event-1")
    load(services, consume)
    assert findings(services.quality(), "consumed_not_received")
    load(services, retract_records=("event-1",))
    assert findings(services.quality(), "consumed_not_received") == []
    load(services, edge(E.CONSUMED_BY, "lot:B", "wo:1", at=t(1)))
    load(services, edge(E.CONSUMED_BY, "lot:B", "wo:1", at=t(1), op=EdgeOp.RETRACT))
    assert findings(services.quality(), "consumed_not_received") == []


def test_scores_per_source_and_the_source_filter(services: Services) -> None:
    good = [sourced(node(f"supplier:S{i}"), "suppliers.csv", "erp", i) for i in range(1, 5)]
    load(
        services,
        *good,
        # mes.csv: 4 records; line 1 an error (consumed, never received), line 2 a warning (a
        # device without a lot), lines 3-4 fine.
        sourced(edge(E.CONSUMED_BY, "lot:X", "wo:1", at=t(1)), "mes.csv", "mes", 1),
        sourced(node(device("D1")), "mes.csv", "mes", 2),
        sourced(edge(E.INCLUDES, lot("L1"), device("D2")), "mes.csv", "mes", 3),
        sourced(node("wo:2"), "mes.csv", "mes", 4),
    )
    report = services.quality()
    scores = {s.source: (s.records, s.affected, s.findings, s.score) for s in report.sources}
    assert scores == {"suppliers.csv": (4, 0, 0, 100), "mes.csv": (4, 2, 2, round(100 * (1 - 1.5 / 4)))}
    only = services.quality(source="mes")
    assert {s.source for s in only.sources} == {"mes.csv"}
    assert {f.check for f in only.findings} == {"consumed_not_received", "device_without_lot"}
    assert services.quality(source="suppliers.csv").findings == ()
    data = report.to_json()
    assert data["counts"] == {"consumed_not_received": 1, "device_without_lot": 1}
    assert data["findings"][0]["records"] == [{"source_system": "mes", "source": "mes.csv", "line": 1}]


def test_doctests() -> None:
    assert doctest.testmod(governance).failed == 0
