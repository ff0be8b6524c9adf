"""Risk propagation and the recall scope algorithm, on hand-built graphs."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from graph.port import Step
from graph.trace import step_constraint
from risk.propagation import (
    carryover_seeds,
    explaining_path,
    propagate,
    set_transmission,
    window_overlap,
)
from risk.recall import ignore_time, placements, recall_scope
from risk.signals.base import Seed
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K


def chain(*nodes: str, **attrs: object) -> nx.DiGraph:
    G = nx.DiGraph()
    for a, b in itertools.pairwise(nodes):
        G.add_edge(a, b, **attrs)
    return G


def test_one_seed_reaches_downstream_with_its_prior() -> None:
    risk = propagate(chain("a", "b", "c"), {"a": 0.6})
    assert risk["c"].probability == pytest.approx(0.6)
    assert explaining_path(risk, "c") == ["a", "b", "c"]
    assert "x" not in risk


def test_a_diamond_from_one_seed_does_not_count_it_twice() -> None:
    G = chain("lot", "wo", "product lot", "device")
    G.add_edge("wo", "device")
    assert propagate(G, {"lot": 0.5})["device"].probability == pytest.approx(0.5)


def test_independent_seeds_combine_as_a_noisy_or() -> None:
    G = nx.DiGraph()
    G.add_edge("lot", "wo", weight=1.0)
    G.add_edge("machine", "wo", weight=0.5)
    risk = propagate(G, {"lot": 0.5, "machine": 0.4})
    assert risk["wo"].probability == pytest.approx(1 - 0.5 * (1 - 0.4 * 0.5))
    assert risk["wo"].seed == "lot" and risk["wo"].path_probability == pytest.approx(0.5)


def test_weights_multiply_along_a_path_and_zero_stops_it() -> None:
    G = nx.DiGraph()
    G.add_edge("a", "b", weight=0.5)
    G.add_edge("b", "c", weight=0.5)
    G.add_edge("c", "d", weight=0.0)
    risk = propagate(G, {"a": 1.0})
    assert risk["c"].probability == pytest.approx(0.25)
    assert "d" not in risk


def test_edge_types_limit_what_is_followed() -> None:
    G = nx.DiGraph()
    G.add_edge("lot", "wo", type=E.CONSUMED_BY)
    G.add_edge("wo", "case", type=E.PACKED_IN)
    risk = propagate(G, {"lot": 1.0}, edge_types={E.CONSUMED_BY})
    assert "wo" in risk and "case" not in risk


def test_a_cycle_never_loops_or_feeds_back() -> None:
    G = chain("a", "b", "c")
    G.add_edge("c", "a")
    risk = propagate(G, {"a": 0.5})
    assert risk["a"].probability == pytest.approx(0.5)
    assert risk["c"].probability == pytest.approx(0.5)


def test_window_overlap_is_the_share_of_the_interval_inside() -> None:
    assert window_overlap(0, 100, (25, 75)) == pytest.approx(0.5)
    assert window_overlap(0, 100, (100, 200)) == 0.0
    assert window_overlap(50, None, (0, 60)) == 1.0
    assert window_overlap(10, 10, (0, 60)) == 1.0


def test_transmission_weights_by_share_and_by_window() -> None:
    G = nx.DiGraph()
    G.add_node("lot:A", part="part:X")
    G.add_node("lot:B", part="part:X")
    G.add_node("lot:C", part="part:Y")
    G.add_edge("lot:A", "wo:1", type=E.CONSUMED_BY, quantity=20)
    G.add_edge("lot:B", "wo:1", type=E.CONSUMED_BY, quantity=60)
    G.add_edge("lot:C", "wo:1", type=E.CONSUMED_BY, quantity=5)  # another part: its own share
    G.add_edge("equipment:M", "wo:1", type=E.USED_IN, at=0.0, until=10.0)
    G.add_edge("equipment:M", "wo:2", type=E.USED_IN, at=20.0, until=30.0)
    G.add_edge("wo:1", "plot:1", type=E.PRODUCED)
    set_transmission(G, windows={"equipment:M": (5.0, 21.0)})
    a = G.edges["lot:A", "wo:1"]
    assert (a["weight"], a["unit_weight"]) == (1.0, pytest.approx(0.25))
    assert G.edges["lot:C", "wo:1"]["unit_weight"] == 1.0
    assert G.edges["equipment:M", "wo:1"]["weight"] == pytest.approx(0.5)
    assert G.edges["equipment:M", "wo:2"]["weight"] == pytest.approx(0.1)
    assert G.edges["wo:1", "plot:1"]["weight"] == 1.0


def test_carryover_reaches_the_next_runs_on_the_same_machine() -> None:
    uses = {
        "equipment:M": [("wo:3", 21.0, 30.0), ("wo:1", 0.0, 10.0), ("wo:2", 12.0, 20.0), ("wo:4", 31.0, 40.0)],
        "equipment:N": [("wo:2", 12.0, 20.0), ("wo:9", 50.0, 60.0)],
    }
    assert carryover_seeds(uses, "wo:2", 1.0, runs_after=1) == {"wo:3": 0.9, "wo:9": 0.9}
    assert carryover_seeds(uses, "wo:4", 1.0) == {}


# -- containment under the trace's time semantics ---------------------------------------------


def add(G: nx.DiGraph, type_: E, a: str, b: str, kind: K, at: float | None = None, until: float | None = None) -> None:
    step = Step(type_, a, b, at, until, b, kind)
    if G.has_edge(a, b):
        G.edges[a, b]["steps"].append(step)
    else:
        G.add_edge(a, b, type=type_, at=at, until=until, steps=[step])


def repacked() -> nx.DiGraph:
    """D1 and D2 in case A (0..5) shipped to a distributor; D1 repacked into case B to
    hospital 1; case A, emptied at 5, later shipped (9) to hospital 2 with other goods."""
    G = nx.DiGraph()
    for key, kind in {
        "lot": K.PRODUCT_LOT,
        "d1": K.DEVICE,
        "d2": K.DEVICE,
        "caseA": K.CONTAINER,
        "caseB": K.CONTAINER,
        "s1": K.SHIPMENT,
        "s2": K.SHIPMENT,
        "s3": K.SHIPMENT,
        "dist": K.CONSIGNEE,
        "h1": K.CONSIGNEE,
        "h2": K.CONSIGNEE,
    }.items():
        G.add_node(key, kind=kind, country="DE" if kind is K.CONSIGNEE else None, name=key.upper())
    for d in ("d1", "d2"):
        G.add_edge("lot", d, type=E.INCLUDES)
        add(G, E.PACKED_IN, d, "caseA", K.CONTAINER, 0.0, 5.0)
    add(G, E.SHIPPED_IN, "caseA", "s1", K.SHIPMENT, 2.0)
    add(G, E.DELIVERED_TO, "s1", "dist", K.CONSIGNEE, 3.0)
    add(G, E.PACKED_IN, "d1", "caseB", K.CONTAINER, 6.0)
    add(G, E.SHIPPED_IN, "caseB", "s2", K.SHIPMENT, 7.0)
    add(G, E.DELIVERED_TO, "s2", "h1", K.CONSIGNEE, 8.0)
    add(G, E.SHIPPED_IN, "caseA", "s3", K.SHIPMENT, 9.0)
    add(G, E.DELIVERED_TO, "s3", "h2", K.CONSIGNEE, 10.0)
    return G


def test_a_device_is_placed_where_a_time_respecting_trace_leads() -> None:
    where = placements(repacked(), ["d1", "d2"], rule=step_constraint)
    assert where["d1"].consignee == "h1" and where["d1"].consignees == ("dist", "h1")
    assert where["d2"].consignee == "dist"
    # Ignoring time, the reused case drags both to hospital 2: the over-recall time avoids.
    plain = placements(repacked(), ["d2"], rule=ignore_time)
    assert plain["d2"].consignee == "h2"


def test_unshipped_stock_is_on_hand_in_its_outermost_container() -> None:
    G = nx.DiGraph()
    G.add_node("lot", kind=K.PRODUCT_LOT)
    G.add_node("wo", kind=K.WORK_ORDER, site="Plant 1")
    G.add_node("d", kind=K.DEVICE)
    G.add_edge("wo", "lot", type=E.PRODUCED)
    G.add_edge("lot", "d", type=E.INCLUDES)
    add(G, E.PACKED_IN, "d", "case", K.CONTAINER, 1.0)
    add(G, E.PACKED_IN, "case", "pallet", K.CONTAINER, 2.0)
    G.nodes["case"]["kind"] = K.CONTAINER
    G.nodes["pallet"]["kind"] = K.CONTAINER
    scope = recall_scope(G, [Seed(node="wo", probability=1.0)], rule=step_constraint)
    assert [(s.device, s.container, s.site, s.lot) for s in scope.on_hand] == [("d", "pallet", "Plant 1", "lot")]
    assert scope.shipped == ()


def test_scope_groups_thresholds_and_sensitivity() -> None:
    G = repacked()
    G.add_node("lot2", kind=K.PRODUCT_LOT)
    G.add_node("d3", kind=K.DEVICE)
    G.add_edge("lot2", "d3", type=E.INCLUDES)
    scope = recall_scope(
        G, [Seed(node="lot", probability=0.8), Seed(node="lot2", probability=0.3)], rule=step_constraint
    )
    assert [d.key for d in scope.devices] == ["d1", "d2"]
    assert {g.key: g.devices for g in scope.by_consignee} == {"h1": ("d1",), "dist": ("d2",)}
    assert [(g.key, g.count) for g in scope.by_lot] == [("lot", 2)]
    assert [(g.key, g.count) for g in scope.by_country] == [("DE", 2)]
    assert scope.devices[0].path == ("lot", "d1")
    rows = {round(r.threshold, 1): r.devices for r in scope.sensitivity}
    assert rows[0.1] == rows[0.3] == 3 and rows[0.4] == rows[0.8] == 2 and rows[0.9] == 0
    assert scope.candidates == 3 and scope.expected_affected == pytest.approx(0.8 + 0.8 + 0.3)
    assert {s.device for s in scope.shipped} == {"d1", "d2"}
    data = scope.to_json()
    assert {"devices", "by_consignee", "by_lot", "sensitivity", "on_hand", "shipped"} <= set(data)
    assert set(data["devices"][0]) >= {"key", "probability", "path"}
    assert set(data["by_consignee"][0]) >= {"key", "count", "devices"}
