"""The Neo4j adapter's one-query trace fetch against its own per-hop reads, on the real server.

``Neo4jStore.compact_traversal`` must hand graph.trace every node reachable from the starts
(ignoring time) once, each with exactly the traced, unretracted steps ``expand`` reports for
it; the conformance suite then checks the answers built on it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator

import pytest

from graph.factory import open_store
from graph.neo4j.server import Neo4jServer
from graph.neo4j.store import Neo4jStore
from graph.sqlite.index import TraversalIndex
from schema.kinds import TRACED_EDGES
from schema.kinds import EdgeType as E
from schema.model import EdgeOp, TraceDirection
from tests.conformance.plants import (
    CASE_A,
    D1,
    D2,
    DISTRIBUTOR,
    EXTRUDER,
    HOSPITAL_1,
    LOT,
    RESIN_LOT,
    SUPPLIER,
    WO,
    repack_plant,
)
from tests.factories import batch, device, edge, t
from tests.support.neo4j import clear_database

pytestmark = pytest.mark.neo4j

StepRow = tuple[str, str, float | None, float | None]  # neighbour, type, at, until
D9 = device("S9")  # reached from LOT by an edge without a time


@pytest.fixture(scope="module")
def neo(neo4j_server: Neo4jServer) -> Iterator[Neo4jStore]:
    clear_database(neo4j_server)
    store = open_store(neo4j_server.store_url)
    assert isinstance(store, Neo4jStore)
    store.migrate()
    store.apply(repack_plant())
    # A retracted step (never fetched as a step), an edge without a time, a second path into LOT.
    store.apply(batch(edge(E.CONSUMED_BY, "lot:RESIN-8", WO, at=t(0))))
    store.apply(batch(edge(E.CONSUMED_BY, "lot:RESIN-8", WO, at=t(0), op=EdgeOp.RETRACT)))
    store.apply(batch(edge(E.INCLUDES, LOT, D9)))
    yield store
    store.close()


def fetched_steps(graph: TraversalIndex, direction: TraceDirection) -> dict[str, Counter[StepRow]]:
    adjacency = graph.forward if direction is TraceDirection.FORWARD else graph.backward
    steps: dict[str, Counter[StepRow]] = {}
    for i, key in enumerate(graph.keys):
        lo, hi = int(adjacency.offsets[i]), int(adjacency.offsets[i + 1])
        steps[key] = Counter(
            (
                graph.keys[int(adjacency.neighbour[j])],
                graph.type_codes[int(adjacency.type[j])].value,
                None if math.isnan(adjacency.at[j]) else float(adjacency.at[j]),
                None if math.isinf(adjacency.until[j]) else float(adjacency.until[j]),
            )
            for j in range(lo, hi)
        )
    return steps


def expanded_steps(store: Neo4jStore, keys: list[str], direction: TraceDirection) -> dict[str, Counter[StepRow]]:
    """Each key's traced, unretracted steps as the per-hop read ``expand`` gives them."""
    found = store.expand(keys, direction)
    return {
        key: Counter((s.neighbour, s.type.value, s.at, s.until) for s in found.get(key, ()) if s.type in TRACED_EDGES)
        for key in keys
    }


def reachable(store: Neo4jStore, starts: list[str], direction: TraceDirection) -> set[str]:
    """Breadth-first over ``expand``, ignoring time: what the fetch must hold at least."""
    seen, frontier = set(starts), list(starts)
    while frontier:
        steps = expanded_steps(store, frontier, direction)
        frontier = [n for c in steps.values() for n, *_ in c if n not in seen]
        seen.update(frontier)
    return seen


@pytest.mark.parametrize("direction", list(TraceDirection))
@pytest.mark.parametrize(
    "starts",
    [[SUPPLIER], [RESIN_LOT], [D1], [CASE_A], [HOSPITAL_1], [DISTRIBUTOR, D1, D2, EXTRUDER, LOT]],
    ids=["supplier", "raw-lot", "device", "case", "hospital", "overlapping-starts"],
)
def test_fetch_holds_each_reachable_node_once_with_its_steps(
    neo: Neo4jStore, starts: list[str], direction: TraceDirection
) -> None:
    found = neo.compact_traversal(starts, direction)
    assert found is not None
    graph, positions = found
    assert [graph.keys[p] for p in positions] == starts
    assert len(set(graph.keys)) == len(graph.keys)  # several starts reaching one node: once
    fetched = fetched_steps(graph, direction)
    # Reachability ignores retractions (a superset: a retracted step is just not fetched).
    assert reachable(neo, starts, direction) <= set(fetched)
    assert fetched == expanded_steps(neo, list(fetched), direction)


def test_fetch_leaves_out_retracted_steps_and_keeps_untimed_ones(neo: Neo4jStore) -> None:
    found = neo.compact_traversal(["lot:RESIN-8"], TraceDirection.FORWARD)
    assert found is not None
    assert fetched_steps(found[0], TraceDirection.FORWARD)["lot:RESIN-8"] == Counter()
    found = neo.compact_traversal([LOT], TraceDirection.FORWARD)
    assert found is not None
    untimed = fetched_steps(found[0], TraceDirection.FORWARD)[LOT]
    assert (D9, E.INCLUDES.value, None, None) in untimed


def test_fetch_of_an_unknown_start_is_none(neo: Neo4jStore) -> None:
    assert neo.compact_traversal(["lot:NOWHERE"], TraceDirection.FORWARD) is None
    assert neo.compact_traversal([D1, "lot:NOWHERE"], TraceDirection.BACKWARD) is None
