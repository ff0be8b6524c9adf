"""The embedded store's in-memory traversal index stays consistent with the file, whoever
writes to it, and answers exactly as the per-hop SQL path does."""

from __future__ import annotations

import gc
import tempfile
from contextlib import closing
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from graph.port import GraphStore
from graph.sqlite.store import SQLiteStore
from schema.errors import NotFoundError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeOp, TraceDirection, TraceEdge, TraceQuery, TraceResult, trusted_factory
from tests.conformance.plants import CASE_A, CASE_B, D1, D2, HOSPITAL_1, LOT, SHIP_DIST, SUPPLIER, repack_plant
from tests.conformance.reference import RefPlant
from tests.conformance.test_trace_properties import load, plant_facts, plants, things, unique_intervals
from tests.factories import batch, edge, node, t


def reached(store: GraphStore, start: str, direction: TraceDirection = TraceDirection.FORWARD) -> set[str]:
    return {n.key for n in store.trace(TraceQuery(starts=(start,), direction=direction)).nodes}


def test_answers_equal_the_sql_path_paths_included(tmp_path: Path) -> None:
    with (
        closing(SQLiteStore(tmp_path / "s.db")) as indexed,
        closing(SQLiteStore(tmp_path / "s.db", traversal_index=False)) as plain,
    ):
        indexed.migrate()
        indexed.apply(repack_plant())
        keys = [k for k, _ in indexed._db.execute("SELECT key, id FROM nodes ORDER BY key")]
        for start in keys:
            for direction in TraceDirection:
                for ignore_time in (False, True):
                    query = TraceQuery(starts=(start,), direction=direction, ignore_time=ignore_time)
                    assert indexed.trace(query).to_json() == plain.trace(query).to_json(), (start, direction)
        limited = TraceQuery(starts=(SUPPLIER,), limit=3, kinds=frozenset({K.DEVICE, K.CONTAINER}))
        assert indexed.trace(limited).to_json() == plain.trace(limited).to_json()
        partial = TraceQuery(starts=(SUPPLIER, LOT))
        assert indexed.trace(partial, max_states=5).to_json() == plain.trace(partial, max_states=5).to_json()


def test_another_connections_commits_are_seen(tmp_path: Path) -> None:
    with closing(SQLiteStore(tmp_path / "s.db")) as reader, closing(SQLiteStore(tmp_path / "s.db")) as writer:
        writer.migrate()
        writer.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1)), edge(E.SHIPPED_IN, CASE_A, SHIP_DIST, at=t(3))))
        assert reached(reader, D1) == {CASE_A, SHIP_DIST}
        built = reader.traversal_index()
        # An unpacking only moves an interval's end: the index is patched, not rebuilt.
        writer.apply(batch(edge(E.PACKED_IN, D1, CASE_A, op=EdgeOp.CLOSE, until=t(2))))
        assert reached(reader, D1) == {CASE_A}
        assert reader.traversal_index() is built
        # A new edge and a new node: a new index, grown from the last without reading it all again.
        writer.apply(batch(edge(E.PACKED_IN, D1, CASE_B, at=t(4))))
        assert reached(reader, D1) == {CASE_A, CASE_B}
        assert reader.traversal_index() is not built and reader.index_builds == 1
        # A kind refined in place (a device that turns out to hold items is a container).
        writer.apply(batch(edge(E.PACKED_IN, D2, D1, at=t(5)), edge(E.SHIPPED_IN, D1, "shipment:X", at=t(6))))
        writer.apply(batch(node(D1, K.CONTAINER)))
        assert reader.trace(TraceQuery(starts=(D2,))).nodes[0].kind is K.CONTAINER


def test_own_commits_and_retractions_are_seen(tmp_path: Path) -> None:
    with closing(SQLiteStore(tmp_path / "s.db")) as store:
        store.migrate()
        store.apply(batch(edge(E.SHIPPED_IN, CASE_A, SHIP_DIST, at=t(3), record_id="ship")))
        store.apply(batch(edge(E.DELIVERED_TO, SHIP_DIST, HOSPITAL_1, at=t(4)), node(HOSPITAL_1, K.CONSIGNEE)))
        assert reached(store, CASE_A) == {SHIP_DIST, HOSPITAL_1}
        builds = store.index_builds
        store.apply(batch(retract_records=("ship",)))
        assert reached(store, CASE_A) == set()
        assert store.index_builds == builds + 1  # a retraction changes the shape: built afresh
        assert reached(store, HOSPITAL_1, TraceDirection.BACKWARD) == {SHIP_DIST}


def test_as_of_traces_use_sql(tmp_path: Path) -> None:
    with closing(SQLiteStore(tmp_path / "s.db")) as store:
        store.migrate()
        first = store.apply(batch(edge(E.PACKED_IN, D1, CASE_A, at=t(1))))
        store.apply(batch(edge(E.PACKED_IN, D1, CASE_B, at=t(2))))
        as_of = TraceQuery(starts=(D1,), as_of=first.recorded_at)
        assert {n.key for n in store.trace(as_of).nodes} == {CASE_A}
        assert reached(store, D1) == {CASE_A, CASE_B}


@settings(max_examples=60, deadline=None)
@given(plant=plants())
def test_random_plants_answer_as_the_sql_path(plant: RefPlant) -> None:
    assume(unique_intervals(plant))
    with (
        tempfile.TemporaryDirectory() as tmp,
        closing(SQLiteStore(Path(tmp) / "s.db")) as indexed,
        closing(SQLiteStore(Path(tmp) / "s.db", traversal_index=False)) as plain,
    ):
        indexed.migrate()
        load(indexed, plant)
        starts = sorted(indexed.kinds(things(plant)))
        queries = [
            TraceQuery(starts=(start,), direction=direction, ignore_time=ignore_time)
            for start in starts
            for direction in TraceDirection
            for ignore_time in (False, True)
        ]
        queries.append(TraceQuery(starts=tuple(starts), direction=TraceDirection.BACKWARD))
        for query in queries:
            assert indexed.trace(query).to_json() == plain.trace(query).to_json(), query


@settings(max_examples=60, deadline=None)
@given(plant=plants(), data=st.data())
def test_an_index_grown_batch_by_batch_answers_as_the_sql_path(plant: RefPlant, data: st.DataObject) -> None:
    # The plant's facts in batches, a trace after each: new nodes and edges grow the index the
    # last trace built (new keys anywhere in the key order, new steps anywhere in a node's
    # adjacency), closings patch it; the answers stay the SQL path's, paths included.
    assume(unique_intervals(plant))
    facts = plant_facts(plant)
    cuts = sorted(data.draw(st.lists(st.integers(1, max(1, len(facts) - 1)), max_size=4, unique=True)))
    closes = data.draw(st.lists(st.sampled_from(plant.packs), max_size=2, unique=True)) if plant.packs else []
    with (
        tempfile.TemporaryDirectory() as tmp,
        closing(SQLiteStore(Path(tmp) / "s.db")) as indexed,
        closing(SQLiteStore(Path(tmp) / "s.db", traversal_index=False)) as plain,
    ):
        indexed.migrate()
        batches = [facts[a:b] for a, b in zip([0, *cuts], [*cuts, len(facts)], strict=True)]
        batches.append(
            [
                edge(E.PACKED_IN, p.item, p.container, at=t(p.start), op=EdgeOp.CLOSE, until=t(p.start + 1))
                for p in closes
            ]
        )
        for facts_now in batches:
            if not facts_now:
                continue
            indexed.apply(batch(*facts_now))
            starts = sorted(indexed.kinds(things(plant)))
            for start in starts:
                for direction in TraceDirection:
                    query = TraceQuery(starts=(start,), direction=direction)
                    assert indexed.trace(query).to_json() == plain.trace(query).to_json(), (query, facts_now)
        assert indexed.index_builds == 1  # the first trace's; every later batch grew or patched it


def test_results_built_without_validation_are_valid_and_equal(tmp_path: Path) -> None:
    """Both paths build their answers with ``trusted_factory``: each object must be exactly what
    strict validation of the same values gives (enum members, tuples, Python ints)."""
    with (
        closing(SQLiteStore(tmp_path / "s.db")) as indexed,
        closing(SQLiteStore(tmp_path / "s.db", traversal_index=False)) as plain,
    ):
        indexed.migrate()
        indexed.apply(repack_plant())
        for store in (indexed, plain):
            for direction in TraceDirection:
                start = SUPPLIER if direction is TraceDirection.FORWARD else HOSPITAL_1
                result = store.trace(TraceQuery(starts=(start,), direction=direction))
                assert result.nodes and result.edges
                revalidated = TraceResult.model_validate(result.model_dump(), strict=True)
                assert revalidated == result
                assert hash(revalidated.nodes[0]) == hash(result.nodes[0])
                assert revalidated.model_dump_json() == result.model_dump_json()
                assert result.model_fields_set == revalidated.model_fields_set


def test_trusted_factory_refuses_missing_or_unknown_fields() -> None:
    build = trusted_factory(TraceEdge)
    assert build(source="a", target="b", type=E.PACKED_IN) == TraceEdge(source="a", target="b", type=E.PACKED_IN)
    with pytest.raises(TypeError, match="source, target, type"):
        build(source="a", target="b")
    with pytest.raises(TypeError):
        build(source="a", target="b", type=E.PACKED_IN, at=None)


def test_a_trace_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path) -> None:
    with closing(SQLiteStore(tmp_path / "s.db")) as store:
        store.migrate()
        store.apply(repack_plant())
        query = TraceQuery(starts=(SUPPLIER,))
        assert gc.isenabled()
        store.trace(query)
        assert gc.isenabled()
        gc.disable()
        try:
            store.trace(query)
            assert not gc.isenabled()
        finally:
            gc.enable()
        with pytest.raises(NotFoundError):
            store.trace(TraceQuery(starts=("lot:NO-SUCH-LOT",)))
        assert gc.isenabled()
