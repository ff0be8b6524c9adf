"""A first load into an empty store writes its rows before its secondary indexes: the same facts
as the row-by-row path, the same indexes after, and nothing at all when the batch fails."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from graph.sqlite import sql
from graph.sqlite.store import SQLiteStore
from schema.errors import InvalidInputError
from schema.kinds import EdgeType
from schema.model import EdgeOp, FactBatch, TraceDirection, TraceQuery
from tests.factories import batch, device, edge, gln, lot, node, sscc, t

DEVICES = 3_000


def plant_batch() -> FactBatch:
    """Devices packed into cases (every fifth unpacked again), cases shipped, each packing also
    reported by a second source record, the cases known only by the edges naming them."""
    facts: list[Any] = [node(lot("L1")), node(gln(1), name="Clinic")]
    for i in range(DEVICES):
        dev, case = device(f"S{i:05d}"), sscc(i // 10)
        facts += [node(dev), node(dev, colour="blue")]  # the second assertion adds a property
        facts.append(edge(EdgeType.PRODUCED, lot("L1"), dev, at=t(1)))
        facts.append(edge(EdgeType.PACKED_IN, dev, case, at=t(2), record_id=f"pack-{i}"))
        facts.append(edge(EdgeType.PACKED_IN, dev, case, at=t(2), record_id=f"pack-{i}-copy"))
        if i % 5 == 0:
            facts.append(edge(EdgeType.PACKED_IN, dev, case, until=t(3), op=EdgeOp.CLOSE))
    for c in range(DEVICES // 10):
        facts.append(edge(EdgeType.SHIPPED_IN, sscc(c), gln(1), at=t(4)))
    return batch(*facts, source="plant")


def indexes(db: sqlite3.Connection) -> list[tuple[str, str]]:
    return db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").fetchall()


def facts_of(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """The store's facts by key, without its row ids, batch ids or recording times."""
    with closing(sqlite3.connect(path)) as db:
        return {
            "nodes": sorted(db.execute("SELECT key, kind, props, label FROM nodes")),
            "node_versions": sorted(
                db.execute(
                    "SELECT n.key, v.props, v.line, v.record_id FROM node_versions v JOIN nodes n ON n.id = v.node_id"
                )
            ),
            "edges": sorted(
                db.execute(
                    "SELECT e.type, s.key, d.key, e.at_key, e.at, e.until, e.props, e.retracted FROM edges e "
                    "JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst"
                ),
                key=repr,
            ),
            "edge_versions": sorted(
                db.execute(
                    "SELECT e.type, s.key, d.key, v.op, v.until, v.asserted_until, v.line, v.record_id "
                    "FROM all_edge_versions v JOIN edges e ON e.id = v.edge_id "
                    "JOIN nodes s ON s.id = e.src JOIN nodes d ON d.id = e.dst"
                ),
                key=repr,
            ),
        }


def fresh(path: Path) -> SQLiteStore:
    store = SQLiteStore(path)
    store.migrate()
    return store


def test_a_first_load_stores_what_a_later_load_stores_and_keeps_every_index(tmp_path: Path) -> None:
    facts = plant_batch()
    assert len(facts.nodes) + len(facts.edges) >= sql.BULK_ROWS  # the deferred-index path

    with closing(fresh(tmp_path / "first.db")) as first:
        result = first.apply(facts)
        forward = first.trace(TraceQuery(starts=(lot("L1"),), direction=TraceDirection.FORWARD))
    # The same batch into a store that already holds something takes the row-by-row path.
    with closing(fresh(tmp_path / "later.db")) as later:
        later.apply(batch(node(lot("OTHER")), source="before"))
        again = later.apply(facts)
        assert later.trace(TraceQuery(starts=(lot("L1"),), direction=TraceDirection.FORWARD)) == forward

    assert (result.nodes_added, result.edges_added, result.edges_changed) == (
        again.nodes_added,
        again.edges_added,
        again.edges_changed,
    )
    assert result.edges_changed == DEVICES // 5  # the closings found their open intervals
    first_facts, later_facts = facts_of(tmp_path / "first.db"), facts_of(tmp_path / "later.db")
    later_facts["nodes"] = [n for n in later_facts["nodes"] if n[0] != lot("OTHER")]
    later_facts["node_versions"] = [v for v in later_facts["node_versions"] if v[0] != lot("OTHER")]
    assert first_facts == later_facts
    # Each packing's second source record is kept as support, not as a second edge.
    assert sum(1 for v in first_facts["edge_versions"] if v[3] == "support") == DEVICES

    with closing(sqlite3.connect(tmp_path / "first.db")) as db, closing(sqlite3.connect(tmp_path / "later.db")) as ref:
        assert indexes(db) == indexes(ref)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        plan = " ".join(str(r) for r in db.execute(f"EXPLAIN QUERY PLAN {sql.OPEN_INTERVALS_INTO}", ("x", 1, 0.0)))
        assert "edges_dst" in plan


def test_a_failed_first_load_leaves_the_store_empty_with_its_indexes(tmp_path: Path) -> None:
    facts = plant_batch()
    unknown = edge(EdgeType.PACKED_IN, device("S00001"), "no-such-thing:1", at=t(5))
    broken = FactBatch(source="broken", nodes=facts.nodes, edges=(*facts.edges, unknown))
    with closing(fresh(tmp_path / "store.db")) as store:
        with closing(sqlite3.connect(tmp_path / "store.db")) as db:
            before = indexes(db)
        with pytest.raises(InvalidInputError, match="no-such-thing:1"):
            store.apply(broken)
        stats = store.stats()
        assert (sum(stats.nodes_by_kind.values()), sum(stats.edges_by_type.values()), stats.batches) == (0, 0, 0)
        with closing(sqlite3.connect(tmp_path / "store.db")) as db:
            assert indexes(db) == before
        # The store is as it was: the same batch without the bad edge then loads in full.
        assert store.apply(facts).edges_added == 2 * DEVICES + DEVICES // 10


def test_a_new_file_gets_large_pages_and_an_older_file_keeps_its_own(tmp_path: Path) -> None:
    with closing(fresh(tmp_path / "new.db")) as store:
        store.apply(batch(node(lot("L1"))))
    older = tmp_path / "older.db"
    with closing(sqlite3.connect(older)) as db:
        db.execute("PRAGMA page_size=4096")
        db.execute("CREATE TABLE t(x)")  # the page size is fixed once the file holds something
    with closing(fresh(older)) as store:
        store.apply(batch(node(lot("L1"))))
        assert store.trace(TraceQuery(starts=(lot("L1"),))).total == 0
    with closing(sqlite3.connect(tmp_path / "new.db")) as new, closing(sqlite3.connect(older)) as old:
        assert new.execute("PRAGMA page_size").fetchone() == (16384,)
        assert old.execute("PRAGMA page_size").fetchone() == (4096,)
