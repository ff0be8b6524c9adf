"""Writing and reading facts: identity, idempotence, all-or-nothing, provenance, history."""

from __future__ import annotations

import pytest

from graph.port import GraphStore
from schema.errors import ConflictError, InvalidInputError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import ANY_SOURCE, EdgeOp, TraceDirection, TraceQuery
from tests.conformance.plants import CASE_A, CASE_B, D1, D2, D3, HOSPITAL_1, LOT, SHIP_DIST, repack_plant
from tests.factories import batch, device, edge, node, t


def counts(store: GraphStore) -> tuple[int, int]:
    s = store.stats()
    return s.nodes, s.edges


def test_apply_counts_and_stats(store: GraphStore) -> None:
    plant = repack_plant()
    result = store.apply(plant)
    assert result.nodes_added == len(plant.nodes)
    assert result.edges_added == len(plant.edges)
    s = store.stats()
    assert s.nodes == len(plant.nodes) and s.edges == len(plant.edges)
    assert s.nodes_by_kind["Device"] == 3
    assert s.edges_by_type["PACKED_IN"] == 5
    assert s.batches == 1


def test_the_same_facts_twice_are_one_fact(store: GraphStore) -> None:
    store.apply(repack_plant())
    before = counts(store)
    again = store.apply(repack_plant())
    assert (again.nodes_added, again.nodes_changed, again.edges_added, again.edges_changed) == (0, 0, 0, 0)
    assert counts(store) == before


def test_the_same_input_twice_is_one_batch(store: GraphStore) -> None:
    first = store.apply(batch(node(D1), source="a.csv", content_hash="h1"))
    second = store.apply(batch(node(D1), source="a.csv", content_hash="h1"))
    assert second.already_loaded and second.batch_id == first.batch_id
    assert store.stats().batches == 1


def test_a_failed_batch_leaves_nothing(store: GraphStore) -> None:
    store.apply(batch(node(D1)))
    before = counts(store)
    bad = batch(node(D2), node("wo:W9", K.WORK_ORDER), edge(E.PRODUCED, "wo:W9", "mystery-key"))
    with pytest.raises(InvalidInputError, match="mystery-key"):
        store.apply(bad)
    assert counts(store) == before
    assert store.stats().batches == 1


def test_one_key_two_kinds_is_a_conflict(store: GraphStore) -> None:
    store.apply(batch(node("lot:X", K.MATERIAL_LOT)))
    with pytest.raises(ConflictError, match="lot:X"):
        store.apply(batch(node(D1), node("lot:X", K.PRODUCT_LOT)))
    assert counts(store) == (1, 0)


def test_endpoints_named_only_by_edges_are_created_from_their_key(store: GraphStore) -> None:
    store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1))))
    assert store.kinds([D1, CASE_A]) == {D1: K.DEVICE, CASE_A: K.CONTAINER}


def test_provenance_and_versions(store: GraphStore) -> None:
    store.apply(batch(node(LOT, K.PRODUCT_LOT, lot="L1"), source="erp.csv"))
    store.apply(batch(node(LOT, K.PRODUCT_LOT, expiry="2026-01-31"), source="mes.csv"))
    view = store.node(LOT)
    assert view.props == {"lot": "L1", "expiry": "2026-01-31"}
    assert [v.props for v in view.versions] == [{"lot": "L1"}, {"expiry": "2026-01-31"}]
    assert all(v.provenance.source == "test.csv" and v.provenance.line for v in view.versions)
    assert view.versions[0].recorded_at < view.versions[1].recorded_at
    earlier = store.node(LOT, as_of=view.versions[0].recorded_at)
    assert earlier.props == {"lot": "L1"}


def test_as_of_answers_as_the_store_knew_it(store: GraphStore) -> None:
    first = store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1)), edge(E.SHIPPED_IN, CASE_A, SHIP_DIST, at=t(3))))
    store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, op=EdgeOp.CLOSE, until=t(2))))
    now = store.trace(TraceQuery(starts=(D1,)))
    then = store.trace(TraceQuery(starts=(D1,), as_of=first.recorded_at))
    assert {n.key for n in now.nodes} == {CASE_A}  # unpacked before the case shipped
    assert {n.key for n in then.nodes} == {CASE_A, SHIP_DIST}
    view = store.node(D1)
    (packed,) = view.edges_out
    assert packed.until == t(2) and len(packed.versions) == 2


def test_unpacking_everything_at_once(store: GraphStore) -> None:
    store.apply(
        batch(
            edge(E.PACKED_IN, D1, CASE_A, at=t(1)),
            edge(E.PACKED_IN, D2, CASE_A, at=t(1)),
            edge(E.SHIPPED_IN, CASE_A, SHIP_DIST, at=t(5)),
        )
    )
    store.apply(batch(edge(E.PACKED_IN, ANY_SOURCE, CASE_A, op=EdgeOp.CLOSE, until=t(2))))
    back = store.trace(TraceQuery(starts=(SHIP_DIST,), direction=TraceDirection.BACKWARD))
    assert {n.key for n in back.nodes} == {CASE_A}


def test_an_unpacking_whose_packing_was_never_loaded_is_an_interval_with_unknown_start(store: GraphStore) -> None:
    # Partner data often starts mid-history: the unpacking says the item was inside before.
    store.apply(
        batch(
            edge(E.PACKED_IN, D1, CASE_A, op=EdgeOp.CLOSE, until=t(5), record_id="unpack"),
            edge(E.SHIPPED_IN, CASE_A, "shipment:EARLY", at=t(2)),
            edge(E.SHIPPED_IN, CASE_A, "shipment:LATE", at=t(6)),
            node("shipment:EARLY", K.SHIPMENT),
            node("shipment:LATE", K.SHIPMENT),
        )
    )
    reached = {n.key for n in store.trace(TraceQuery(starts=(D1,))).nodes}
    assert reached == {CASE_A, "shipment:EARLY"}
    (packed,) = store.node(D1).edges_out
    assert packed.at is None and packed.until == t(5)


def test_withdrawing_an_unpacking_reopens_the_interval(store: GraphStore) -> None:
    store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1), record_id="pack")))
    store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, op=EdgeOp.CLOSE, until=t(2), record_id="unpack")))
    store.apply(batch(edge(E.SHIPPED_IN, CASE_A, SHIP_DIST, at=t(3)), node(SHIP_DIST, K.SHIPMENT)))
    assert SHIP_DIST not in {n.key for n in store.trace(TraceQuery(starts=(D1,))).nodes}
    store.apply(batch(retract_records=("unpack",)))
    assert SHIP_DIST in {n.key for n in store.trace(TraceQuery(starts=(D1,))).nodes}
    (packed,) = store.node(D1).edges_out
    assert packed.until is None and not packed.retracted


def test_an_edge_another_record_supports_survives_withdrawing_one(store: GraphStore) -> None:
    store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1), record_id="evt-1")))
    again = store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1), record_id="evt-2")))
    assert (again.edges_added, again.edges_changed) == (0, 0)  # the same fact, another witness
    store.apply(batch(retract_records=("evt-1",)))
    assert store.trace(TraceQuery(starts=(D1,))).total == 1
    store.apply(batch(retract_records=("evt-2",)))
    assert store.trace(TraceQuery(starts=(D1,))).total == 0
    # With both witnesses withdrawn the edge is retracted; its history stays.
    (packed,) = store.node(D1).edges_out
    assert packed.retracted


def test_a_device_may_turn_out_to_be_a_container(store: GraphStore) -> None:
    case = device("CASE-1")
    store.apply(batch(node(case, K.DEVICE)))
    store.apply(batch(edge(E.PACKED_IN, D1, case, at=t(1)), node(case, K.CONTAINER)))
    store.apply(batch(node(case, K.DEVICE, note="seen again as an item")))
    assert store.kinds([case]) == {case: K.CONTAINER}


def test_retracting_a_source_record_keeps_its_history(store: GraphStore) -> None:
    loaded = store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1), record_id="evt-1")))
    retraction = store.apply(batch(retract_records=("evt-1",)))
    assert retraction.retracted == 1
    assert store.trace(TraceQuery(starts=(D1,))).total == 0
    assert store.trace(TraceQuery(starts=(D1,), as_of=loaded.recorded_at)).total == 1
    (packed,) = store.node(D1).edges_out
    assert packed.retracted and [v.retracted for v in packed.versions] == [False, True]


def test_search_by_partial_key_and_name(store: GraphStore) -> None:
    store.apply(repack_plant())
    hits = store.search("acme")
    assert [h.key for h in hits] == ["supplier:ACME"]
    assert {h.key for h in store.search("s2", kinds=[K.DEVICE])} == {device("S2")}


def test_export_replays_into_another_store_with_history(store: GraphStore, tmp_path: object) -> None:
    from pathlib import Path

    from graph.sqlite.store import SQLiteStore

    first = store.apply(repack_plant())
    store.apply(batch(edge(E.PACKED_IN, D1, CASE_B, op=EdgeOp.CLOSE, until=t(6.5))))  # unpacked before shipping
    # History of every kind: a second witness, an unpacking with no known packing, a withdrawal.
    store.apply(batch(edge(E.PACKED_IN, D2, CASE_B, at=t(6), record_id="w1")))
    store.apply(batch(edge(E.PACKED_IN, D2, CASE_B, at=t(6), record_id="w2")))
    store.apply(batch(edge(E.PACKED_IN, D3, CASE_B, op=EdgeOp.CLOSE, until=t(8), record_id="u1")))
    store.apply(batch(retract_records=("w1", "u1")))
    target = SQLiteStore(Path(str(tmp_path)) / "copy.db")
    target.migrate()
    for b in store.export_batches():
        target.apply(b)
    assert target.stats().nodes == store.stats().nodes
    assert target.stats().edges == store.stats().edges
    for key in (D1, D2, D3, CASE_B):
        for direction in TraceDirection:
            q = TraceQuery(starts=(key,), direction=direction)
            assert store.trace(q) == target.trace(q)
    assert store.node(D3).edges_out == target.node(D3).edges_out
    q = TraceQuery(starts=(D1,))
    assert HOSPITAL_1 not in {n.key for n in target.trace(q).nodes}
    then = TraceQuery(starts=(D1,), as_of=first.recorded_at)
    assert store.trace(then) == target.trace(then)
    assert HOSPITAL_1 in {n.key for n in target.trace(then).nodes}
    # Copying again changes nothing: every batch is already there.
    assert all(target.apply(b).already_loaded for b in store.export_batches())
    target.close()
