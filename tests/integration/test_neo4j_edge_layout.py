"""How the Neo4j adapter stores an edge's history: lists only once it has two versions.

An edge written once keeps its one version as its state plus ``v_first``; the history lists
(``v_recorded`` … ``v_json``) are written when a second version is appended. Stores written
before that layout hold the lists for every edge: both must answer alike.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from graph.neo4j import cypher
from graph.neo4j.server import Neo4jServer
from graph.neo4j.store import Neo4jStore
from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import BatchResult, EdgeOp, TraceDirection, TraceQuery
from tests.conformance.plants import CASE_A, CASE_B, D1, D2, LOT, RESIN_LOT, WO, repack_plant
from tests.factories import batch, edge, node, t
from tests.support.neo4j import migrated_neo4j_store

pytestmark = pytest.mark.neo4j

LAYOUT = """
    MATCH ()-[r]->()
    RETURN count(r) AS edges, count(r.v_first) AS first_only, count(r.v_json) AS with_lists,
           count(r.last_batch) AS changed
"""
#: Every one-version edge rewritten as the earlier layout stored it.
EARLIER_LAYOUT = f"""
    MATCH ()-[r]->() WHERE r.v_first IS NOT NULL
    SET r.v_recorded = [r.first_recorded], r.v_until = [coalesce(r.until, {cypher.OPEN})],
        r.v_retracted = [r.retracted], r.v_batch = [r.first_batch], r.v_json = [r.v_first],
        r.last_batch = r.first_batch, r.record_ids = coalesce(r.record_ids, [])
    REMOVE r.v_first
"""


@pytest.fixture
def neo(neo4j_server: Neo4jServer) -> Iterator[Neo4jStore]:
    store = migrated_neo4j_store(neo4j_server)
    yield store
    store.close()


def layout(store: Neo4jStore) -> dict[str, int]:
    return store._read(LAYOUT)[0]


def load(store: Neo4jStore) -> tuple[BatchResult, BatchResult]:
    first = store.apply(repack_plant())
    second = store.apply(
        batch(edge(E.PACKED_IN, D1, CASE_B, op=EdgeOp.CLOSE, until=t(6.5)), node(LOT, K.PRODUCT_LOT, x=1))
    )
    return first, second


def answers(store: Neo4jStore, as_of: BatchResult) -> tuple[object, ...]:
    traces = tuple(
        store.trace(TraceQuery(starts=(k,), direction=d, as_of=when)).to_json()
        for k in (RESIN_LOT, D1, CASE_A)
        for d in TraceDirection
        for when in (None, as_of.recorded_at)
    )
    views = tuple(store.node(k, as_of=when) for k in (D1, D2, CASE_A, CASE_B) for when in (None, as_of.recorded_at))
    return traces, views, tuple(store.export_batches()), store.stats().edges_by_type


def test_an_edge_written_once_stores_no_history_lists(neo: Neo4jStore) -> None:
    neo.apply(repack_plant())
    fresh = layout(neo)
    assert fresh["edges"] > 0
    assert fresh == {"edges": fresh["edges"], "first_only": fresh["edges"], "with_lists": 0, "changed": 0}
    load_again = neo.apply(repack_plant())
    assert (load_again.edges_added, load_again.edges_changed) == (0, 0)
    neo.apply(batch(edge(E.PACKED_IN, D1, CASE_B, op=EdgeOp.CLOSE, until=t(6.5))))
    after = layout(neo)
    # The closed interval got its second version: its history became lists, the rest kept one.
    assert after == {"edges": fresh["edges"], "first_only": fresh["edges"] - 1, "with_lists": 1, "changed": 1}
    closed = neo.node(D1).edges_out
    assert [len(e.versions) for e in closed if e.target == CASE_B] == [2]


def test_edges_stored_in_the_earlier_layout_answer_the_same(neo: Neo4jStore) -> None:
    first, _ = load(neo)
    before = answers(neo, first)
    neo._driver.execute_query(EARLIER_LAYOUT, database_=neo.database)
    assert layout(neo)["first_only"] == 0
    assert answers(neo, first) == before
    again = neo.apply(repack_plant())
    assert (again.edges_added, again.edges_changed) == (0, 0)
    # A new version of an edge stored in the earlier layout extends its lists.
    neo.apply(batch(edge(E.CONSUMED_BY, RESIN_LOT, WO, at=t(0), quantity=6.0)))
    (consumed,) = (e for e in neo.node(RESIN_LOT).edges_out if e.target == WO)
    assert [v.props for v in consumed.versions] == [{"quantity": 5.0}, {"quantity": 6.0}]
