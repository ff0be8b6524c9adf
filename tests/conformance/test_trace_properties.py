"""Random plants with packing, unpacking, repacking and onward shipping: every store's trace
must equal the reference (tests/conformance/reference.py), forward and backward."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from graph.port import GraphStore
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeFact, NodeFact, TraceDirection, TraceQuery
from tests.conformance.reference import Pack, RefPlant, Ship
from tests.factories import batch, device, edge, gln, lot, node, sscc, t


@st.composite
def plants(draw: st.DrawFn) -> RefPlant:
    n_devices = draw(st.integers(1, 5))
    n_containers = draw(st.integers(1, 4))
    n_shipments = draw(st.integers(1, 3))
    devices = [device(f"P{i}") for i in range(n_devices)]
    containers = [sscc(i + 1) for i in range(n_containers)]
    shipments = [f"shipment:SH{i}" for i in range(n_shipments)]
    consignees = [gln(i + 1) for i in range(draw(st.integers(1, 2)))]
    plant = RefPlant()
    plant.lots = {lot("A"): devices[: max(1, n_devices // 2)], lot("B"): devices[max(1, n_devices // 2) :]}
    time = st.integers(0, 12)
    for _ in range(draw(st.integers(0, 8))):
        item = draw(st.sampled_from(devices + containers))
        container = draw(st.sampled_from([c for c in containers if c != item] or containers))
        if container == item:
            continue
        start = draw(time)
        length = draw(st.one_of(st.none(), st.integers(1, 6)))
        plant.packs.append(Pack(item, container, start, None if length is None else start + length))
    for _ in range(draw(st.integers(0, 5))):
        plant.ships.append(
            Ship(draw(st.sampled_from(devices + containers)), draw(st.sampled_from(shipments)), draw(time))
        )
    for s in shipments:
        plant.deliveries[s] = draw(st.sampled_from(consignees))
    return plant


def load(store: GraphStore, plant: RefPlant) -> None:
    store.apply(batch(*plant_facts(plant)))


def plant_facts(plant: RefPlant) -> list[NodeFact | EdgeFact]:
    """The facts of ``plant``, as one batch would hold them."""
    facts: list[NodeFact | EdgeFact] = []
    for lot_key, devices in plant.lots.items():
        facts.append(node(lot_key, K.PRODUCT_LOT))
        facts.extend(edge(E.INCLUDES, lot_key, d, at=t(0)) for d in devices)
        facts.extend(node(d, K.DEVICE) for d in devices)
    # Packings may repeat (same item, container and start): the store keeps one, as the
    # reference does (a set of moments), so duplicates do not change the answer.
    facts.extend(
        edge(E.PACKED_IN, p.item, p.container, at=t(p.start), until=None if p.end is None else t(p.end))
        for p in plant.packs
    )
    facts.extend(edge(E.SHIPPED_IN, s.item, s.shipment, at=t(s.at)) for s in plant.ships)
    facts.extend(edge(E.DELIVERED_TO, s, c, at=t(20)) for s, c in plant.deliveries.items())
    return facts


def unique_intervals(plant: RefPlant) -> bool:
    """The store identifies a packing by (item, container, start); keep drawn plants unambiguous."""
    keys = [(p.item, p.container, p.start) for p in plant.packs]
    return len(keys) == len(set(keys))


def things(plant: RefPlant) -> list[str]:
    return sorted(
        set(plant.lots)
        | {d for ds in plant.lots.values() for d in ds}
        | {p.container for p in plant.packs}
        | {s.shipment for s in plant.ships}
        | set(plant.deliveries.values())
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plant=plants(), data=st.data())
def test_trace_matches_the_reference(
    fresh_store: Callable[[], GraphStore], plant: RefPlant, data: st.DataObject
) -> None:
    assume(unique_intervals(plant))
    store = fresh_store()
    load(store, plant)
    known = set(store.kinds(things(plant)))
    starts = sorted(known)
    start = data.draw(st.sampled_from(starts))
    forward = store.trace(TraceQuery(starts=(start,), direction=TraceDirection.FORWARD))
    backward = store.trace(TraceQuery(starts=(start,), direction=TraceDirection.BACKWARD))
    assert {n.key for n in forward.nodes} == plant.forward(start) - {start}, f"forward from {start}"
    assert {n.key for n in backward.nodes} == plant.backward(start), f"backward from {start}"
    plain = store.trace(TraceQuery(starts=(start,), ignore_time=True))
    assert {n.key for n in forward.nodes} <= {n.key for n in plain.nodes}
