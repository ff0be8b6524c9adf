"""The trace contract of DESIGN.md, checked on every store."""

from __future__ import annotations

import pytest

from graph.port import GraphStore
from schema.errors import NotFoundError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import TimeWindow, TraceDirection, TraceQuery, TraceResult
from tests.conformance.plants import (
    CASE_A,
    CASE_B,
    D1,
    D2,
    D3,
    DISTRIBUTOR,
    EXTRUDER,
    HOSPITAL_1,
    HOSPITAL_2,
    INSPECTION,
    LOT,
    OTHER_RESIN_LOT,
    PALLET,
    RESIN_LOT,
    SHIP_DIST,
    SHIP_H1,
    SHIP_H2,
    SUPPLIER,
    WO,
    repack_plant,
)
from tests.factories import batch, edge, node, t

FWD, BWD = TraceDirection.FORWARD, TraceDirection.BACKWARD


def reached(result: TraceResult) -> set[str]:
    return {n.key for n in result.nodes}


@pytest.fixture
def plant(store: GraphStore) -> GraphStore:
    store.apply(repack_plant())
    return store


def trace(store: GraphStore, *starts: str, direction: TraceDirection = FWD, **kw: object) -> TraceResult:
    return store.trace(TraceQuery(starts=starts, direction=direction, **kw))  # type: ignore[arg-type]


def test_forward_follows_containment_only_while_the_item_was_inside(plant: GraphStore) -> None:
    result = trace(plant, D1)
    assert reached(result) == {CASE_A, PALLET, SHIP_DIST, DISTRIBUTOR, CASE_B, SHIP_H1, HOSPITAL_1}
    # The emptied case went on to hospital 2 without D1.
    assert HOSPITAL_2 not in reached(result)


def test_ignore_time_is_plain_reachability_and_over_recalls(plant: GraphStore) -> None:
    result = trace(plant, D1, ignore_time=True)
    assert reached(result) == {CASE_A, PALLET, SHIP_DIST, DISTRIBUTOR, CASE_B, SHIP_H1, HOSPITAL_1, SHIP_H2, HOSPITAL_2}


def test_forward_from_supplier_lot_reaches_every_downstream_thing(plant: GraphStore) -> None:
    result = trace(plant, RESIN_LOT)
    assert reached(result) == {WO, LOT, D1, D2, D3, CASE_A, PALLET, CASE_B, SHIP_DIST, SHIP_H1, DISTRIBUTOR, HOSPITAL_1}
    by_key = {n.key: n for n in result.nodes}
    assert by_key[WO].degree == 1
    assert by_key[LOT].degree == 2
    assert by_key[HOSPITAL_1].path == (RESIN_LOT, WO, LOT, D1, CASE_B, SHIP_H1, HOSPITAL_1)
    assert result.total == len(result.nodes) == 12
    assert not result.truncated and not result.is_partial


def test_every_explaining_path_is_made_of_traversed_edges(plant: GraphStore) -> None:
    result = trace(plant, RESIN_LOT)
    edges = {(e.source, e.target) for e in result.edges}
    for n in result.nodes:
        assert n.path[0] == RESIN_LOT and n.path[-1] == n.key
        assert len(n.path) == n.degree + 1
        for a, b in zip(n.path, n.path[1:], strict=False):
            assert (a, b) in edges


def test_backward_from_a_shipment_finds_what_was_inside_at_that_moment(plant: GraphStore) -> None:
    assert reached(trace(plant, HOSPITAL_2, direction=BWD)) == {SHIP_H2, CASE_A}
    result = trace(plant, DISTRIBUTOR, direction=BWD)
    assert {D1, D2, D3, CASE_A, PALLET, SHIP_DIST} <= reached(result)


def test_backward_from_a_device_reaches_its_genealogy_but_not_through_the_supplier(plant: GraphStore) -> None:
    result = trace(plant, HOSPITAL_1, direction=BWD)
    assert reached(result) == {SHIP_H1, CASE_B, D1, LOT, WO, RESIN_LOT, EXTRUDER, SUPPLIER, INSPECTION}
    assert OTHER_RESIN_LOT not in reached(result)  # reached the supplier, did not pass through it


def test_backward_from_a_container_itself_finds_everything_it_ever_held(plant: GraphStore) -> None:
    result = trace(plant, CASE_A, direction=BWD, kinds=frozenset({K.DEVICE}))
    assert reached(result) == {D1, D2, D3}


def test_a_trace_may_start_at_a_party(plant: GraphStore) -> None:
    result = trace(plant, SUPPLIER, max_depth=1)
    assert reached(result) == {RESIN_LOT, OTHER_RESIN_LOT}


def test_start_window_selects_equipment_use(store: GraphStore) -> None:
    store.apply(
        batch(
            node(EXTRUDER, K.EQUIPMENT),
            node("wo:A", K.WORK_ORDER),
            node("wo:B", K.WORK_ORDER),
            edge(E.USED_IN, EXTRUDER, "wo:A", at=t(0), until=t(2)),
            edge(E.USED_IN, EXTRUDER, "wo:B", at=t(3), until=t(5)),
        )
    )
    window = TimeWindow(start=t(1), end=t(2.5))
    assert reached(trace(store, EXTRUDER, window=window)) == {"wo:A"}
    assert reached(trace(store, EXTRUDER)) == {"wo:A", "wo:B"}
    assert reached(trace(store, EXTRUDER, window=window, ignore_time=True)) == {"wo:A", "wo:B"}


def test_nested_containers_compose(store: GraphStore) -> None:
    # The case sat on the pallet only from t2 to t3; the pallet left at t4 without it.
    store.apply(
        batch(
            edge(E.PACKED_IN, D1, CASE_A, at=t(1)),
            edge(E.PACKED_IN, CASE_A, PALLET, at=t(2), until=t(3)),
            edge(E.SHIPPED_IN, PALLET, SHIP_DIST, at=t(4)),
            node(SHIP_DIST, K.SHIPMENT),
        )
    )
    assert reached(trace(store, D1)) == {CASE_A, PALLET}
    assert reached(trace(store, SHIP_DIST, direction=BWD)) == {PALLET}


def test_kinds_limit_and_depth(plant: GraphStore) -> None:
    devices = trace(plant, RESIN_LOT, kinds=frozenset({K.DEVICE}))
    assert reached(devices) == {D1, D2, D3}
    limited = trace(plant, RESIN_LOT, limit=2)
    assert limited.total == 12 and limited.truncated and len(limited.nodes) == 2
    assert reached(trace(plant, RESIN_LOT, max_depth=2)) == {WO, LOT}


def test_several_starts_and_any_key_form(plant: GraphStore) -> None:
    result = trace(plant, D2, D3)
    assert set(result.starts) == {D2, D3}
    assert D2 not in reached(result) and D3 not in reached(result)
    gtin, serial = D1.split("/")[1], D1.split("/")[3]
    as_element_string = trace(plant, f"(01){gtin}(21){serial}")
    assert reached(as_element_string) == reached(trace(plant, D1))


def test_unknown_start_is_an_error(plant: GraphStore) -> None:
    with pytest.raises(NotFoundError, match="wo:NOPE"):
        trace(plant, "wo:NOPE")


def test_cycles_never_loop(store: GraphStore) -> None:
    store.apply(
        batch(
            node("plot:A", K.PRODUCT_LOT),
            node("plot:B", K.PRODUCT_LOT),
            edge(E.TRANSFORMED_INTO, "plot:A", "plot:B", at=t(1)),
            edge(E.TRANSFORMED_INTO, "plot:B", "plot:A", at=t(2)),
        )
    )
    assert reached(trace(store, "plot:A")) == {"plot:B"}
    assert reached(trace(store, "plot:A", direction=BWD)) == {"plot:B"}


def test_a_start_at_an_inspection_reaches_what_it_inspected_and_downstream(plant: GraphStore) -> None:
    result = trace(plant, INSPECTION, kinds=frozenset({K.CONSIGNEE}))
    assert reached(result) == {DISTRIBUTOR, HOSPITAL_1}


def test_server_budget_marks_the_result_partial(plant: GraphStore) -> None:
    result = plant.trace(TraceQuery(starts=(RESIN_LOT,)), max_states=4)
    assert result.is_partial
    assert result.total < 12
