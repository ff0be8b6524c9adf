"""Batches larger than one transaction: committed in chunks, yet all or nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph.neo4j import store as neo4j_store
from graph.neo4j.server import Neo4jServer
from graph.neo4j.store import Neo4jStore, _plan_chunks
from graph.sqlite.store import SQLiteStore
from schema.errors import InvalidInputError
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import EdgeOp, TraceDirection, TraceQuery
from tests.conformance.plants import CASE_A, CASE_B, D1, D2, LOT, RESIN_LOT, repack_plant
from tests.factories import batch, device, edge, node, t
from tests.support.neo4j import migrated_neo4j_store

pytestmark = pytest.mark.neo4j


@pytest.fixture
def neo(neo4j_server: Neo4jServer) -> Iterator[Neo4jStore]:
    store = migrated_neo4j_store(neo4j_server)
    store.chunk_facts = 4  # every test batch spans several transactions
    yield store
    store.close()


def snapshot(store: Neo4jStore | SQLiteStore) -> tuple[object, ...]:
    s = store.stats()
    traces = tuple(
        store.trace(TraceQuery(starts=(k,), direction=d)).to_json()
        for k in (RESIN_LOT, D1, CASE_A)
        for d in TraceDirection
    )
    return s.nodes_by_kind, s.edges_by_type, s.batches, traces, store.node(LOT), store.node(D1)


def test_a_chunked_batch_answers_like_a_whole_one(neo: Neo4jStore, tmp_path: Path) -> None:
    lite = SQLiteStore(tmp_path / "s.db")
    lite.migrate()
    for store in (neo, lite):
        store.apply(repack_plant())
        store.apply(batch(edge(E.PACKED_IN, D1, CASE_B, op=EdgeOp.CLOSE, until=t(6.5)), node(LOT, K.PRODUCT_LOT, x=1)))
    assert neo.stats().batches == 2
    for key in (RESIN_LOT, D1, CASE_A):
        for direction in TraceDirection:
            q = TraceQuery(starts=(key,), direction=direction)
            assert neo.trace(q).to_json() == lite.trace(q).to_json()
    assert neo.apply(repack_plant()).edges_added == 0
    lite.close()


def test_a_batch_failing_in_a_later_chunk_leaves_nothing(neo: Neo4jStore) -> None:
    neo.apply(repack_plant())
    before = snapshot(neo)
    bad = batch(
        node(LOT, K.PRODUCT_LOT, note="changed by the failing batch"),  # an existing node changed
        node(D2, K.DEVICE, colour="red"),
        edge(E.PACKED_IN, D2, CASE_B, at=t(7)),  # a new edge
        edge(E.SHIPPED_IN, CASE_A, "shipment:NEW", at=t(8)),  # a new node through an edge
        node("wo:W9", K.WORK_ORDER),
        edge(E.PRODUCED, "wo:W9", "mystery-key"),  # fails in the last chunk
    )
    with pytest.raises(InvalidInputError, match="mystery-key"):
        neo.apply(bad)
    assert snapshot(neo) == before


def test_a_batch_whose_loader_died_is_rolled_back_by_the_next_writer(neo: Neo4jStore) -> None:
    neo.apply(repack_plant())
    before = snapshot(neo)
    # Begin a chunked batch and write its first chunk, as a process would before being killed.
    half = batch(node(LOT, K.PRODUCT_LOT, note="half-written"), edge(E.PACKED_IN, D2, CASE_B, at=t(7)))
    with neo._driver.session() as session:
        begun = session.execute_write(lambda tx: neo._begin(tx, half))
        assert isinstance(begun, tuple)
        batch_id, now = begun
        session.execute_write(lambda tx: neo._create_batch(tx, half, batch_id, now, (0, 0, 0, 0, 0), state="applying"))
        session.execute_write(neo._write_chunk, half.nodes, half.edges, (), batch_id, now)
    assert neo.node(LOT).props.get("note") == "half-written"  # visible while "applying"
    neo.stale_after = 0.0  # the loader's heartbeat is now overdue
    neo.apply(batch(node("wo:AFTER", K.WORK_ORDER)))
    after = snapshot(neo)
    assert after[2] == before[2] + 1  # type: ignore[operator]  # only the new batch is counted
    assert after[3:] == before[3:]  # traces and the touched nodes are as before the dead batch
    assert neo.stats().nodes == sum(before[0].values()) + 1  # type: ignore[attr-defined]


def test_each_edge_goes_with_the_later_of_its_endpoints_and_nothing_is_lost() -> None:
    a, b, c = "wo:A", "wo:B", "wo:C"
    devices = [device(f"H{i}") for i in range(6)]
    nodes = [node(a, K.WORK_ORDER), node(b, K.WORK_ORDER), node(a, K.WORK_ORDER, x=1), node(c, K.PRODUCT_LOT)]
    edges = [
        edge(E.PRODUCED, b, c, at=t(1)),  # with c, the later endpoint
        edge(E.USED_IN, "equipment:E1", a, at=t(0)),  # with a's first fact, not its second
        edge(E.SHIPPED_IN, "sscc:1", "shipment:S1", at=t(2)),  # no node fact: first
        *(edge(E.INCLUDES, c, d, at=t(1)) for d in devices),  # more than a transaction holds
        edge(E.PRODUCED, b, c, at=t(1), note="second version"),  # after its first, same identity
    ]
    plan = _plan_chunks(nodes, edges, 4)
    assert [n for chunk_nodes, _ in plan for n in chunk_nodes] == nodes
    assert sorted(map(id, (e for _, chunk_edges in plan for e in chunk_edges))) == sorted(map(id, edges))
    where = {id(e): i for i, (_, chunk_edges) in enumerate(plan) for e in chunk_edges}
    chunk_of = {n.key: i for i, (chunk_nodes, _) in reversed(list(enumerate(plan))) for n in chunk_nodes}
    assert where[id(edges[2])] == 0
    assert where[id(edges[1])] == chunk_of[a] == 0
    assert where[id(edges[0])] == chunk_of[c]
    assert all(len(chunk_nodes) + len(chunk_edges) <= 4 for chunk_nodes, chunk_edges in plan)
    # The edges of one identity keep their order across transactions.
    assert where[id(edges[0])] <= where[id(edges[-1])]
    flat = [e for _, chunk_edges in plan for e in chunk_edges]
    assert flat.index(edges[0]) < flat.index(edges[-1])


def history(store: Neo4jStore | SQLiteStore, key: str) -> list[tuple[object, ...]]:
    """A node's edges with every version's props and source line (batch ids and times differ by store)."""
    view = store.node(key)
    return [
        (e.type, e.source, e.target, e.at, e.props, [(v.props, v.provenance.line) for v in e.versions])
        for e in (*view.edges_out, *view.edges_in)
    ]


def test_a_node_with_more_edges_than_a_transaction_holds_answers_like_a_whole_load(
    neo: Neo4jStore, tmp_path: Path
) -> None:
    devices = [device(f"H{i}") for i in range(9)]
    hub = batch(
        node(LOT, K.PRODUCT_LOT),
        *(edge(E.INCLUDES, LOT, d, at=t(0.5)) for d in devices),
        *(node(d, K.DEVICE) for d in devices[:3]),
        edge(E.INCLUDES, LOT, devices[0], at=t(0.5), grade="A"),  # a second version, later
        edge(E.PACKED_IN, devices[1], CASE_A, at=t(1)),
    )
    lite = SQLiteStore(tmp_path / "s.db")
    lite.migrate()
    for store in (neo, lite):
        store.apply(hub)
    assert neo.stats().edges_by_type == lite.stats().edges_by_type
    assert history(neo, LOT) == history(lite, LOT)
    for key in (LOT, devices[1]):
        for direction in TraceDirection:
            q = TraceQuery(starts=(key,), direction=direction)
            assert neo.trace(q).to_json() == lite.trace(q).to_json()
    again, again_lite = neo.apply(hub), lite.apply(hub)
    counts = ("nodes_added", "nodes_changed", "edges_added", "edges_changed")
    assert [getattr(again, c) for c in counts] == [getattr(again_lite, c) for c in counts]
    assert again.edges_added == again.nodes_added == 0
    assert history(neo, LOT) == history(lite, LOT)
    lite.close()


@pytest.mark.parametrize("chunk_facts", [4, 1000])
def test_relationships_sent_while_the_next_are_built_answer_alike_and_fail_whole(
    neo: Neo4jStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk_facts: int
) -> None:
    monkeypatch.setattr(neo4j_store, "STREAM_ROWS", 2)  # every few new edges go from the writer thread
    neo.chunk_facts = chunk_facts  # in chunks, and in one transaction
    lite = SQLiteStore(tmp_path / "s.db")
    lite.migrate()
    for store in (neo, lite):
        store.apply(repack_plant())
    assert snapshot(neo)[:2] == snapshot(lite)[:2]
    for key in (RESIN_LOT, D1, CASE_A):
        for direction in TraceDirection:
            q = TraceQuery(starts=(key,), direction=direction)
            assert neo.trace(q).to_json() == lite.trace(q).to_json()
    before = snapshot(neo)
    devices = [device(f"W{i}") for i in range(7)]
    failing = batch(
        node("lot:W", K.MATERIAL_LOT),
        *(edge(E.INCLUDES, LOT, d, at=t(9)) for d in devices),  # sent before the failure
        edge(E.PACKED_IN, devices[0], CASE_B, op=EdgeOp.RETRACT),  # not in the store: fails
    )
    with pytest.raises(InvalidInputError, match="cannot retract"):
        neo.apply(failing)
    assert snapshot(neo) == before
    lite.close()
