"""The raw-load baseline: the same rows into the same tables with plain ``executemany``.

What any loader must do at the least (turn facts into rows, JSON-encode their properties,
write them in one transaction) and nothing TraceGraph adds: no idempotence checks against
what the store holds, no interval closing, no kind reconciliation, no audit of the batch.
It is the program a user would write instead, and it is held to the store's terms:

- the same rows: every node and edge row the store writes for a first load, each with the
  one version it holds, column for column (labels, provenance, record hashes);
  ``bench.workers`` compares the row counts of both files after each A/B run;
- the same tables and indexes (the store's migrations), created before the rows go in, as a
  plain program does (the store defers its secondary indexes on a first load: that is one of
  the things being measured);
- the same durability and file: WAL, ``synchronous=NORMAL``, the store's page size and other
  PRAGMAs, one transaction committed at the end.
"""

from __future__ import annotations

import gc
import sqlite3
from pathlib import Path
from typing import Any

import orjson

from graph.sqlite import sql
from graph.sqlite.store import label_of
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeOp, FactBatch

_KIND = {k: k.value for k in NodeKind}
_TYPE = {t: t.value for t in EdgeType}


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def raw_load(path: Path, batch: FactBatch, *, now: float = 1.7e9) -> int:
    """Write ``batch`` into a new SQLite file at ``path``; return the edges written.

    The garbage collector is paused while the rows are built, as the store pauses it for
    large batches: the comparison is between the two programs' own work.
    """
    db = sqlite3.connect(path, isolation_level=None)
    gc.disable()
    try:
        for pragma in sql.NEW_FILE_PRAGMAS:
            db.execute(pragma)
        db.execute("PRAGMA journal_mode=WAL")
        for pragma in sql.CONNECTION_PRAGMAS:
            db.execute(pragma)
        for migration in sql.MIGRATIONS:
            for statement in migration.split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute("BEGIN IMMEDIATE")
        db.execute(sql.INSERT_BATCH, ("raw", batch.source, None, now))
        # Each node and edge with its one version in its row, as the store writes a fact
        # recorded once (the plants hold each once).
        ids: dict[str, int] = {}
        nodes: list[tuple[Any, ...]] = []
        for fact in batch.nodes:
            if fact.key in ids:
                continue
            props = _dumps(fact.props)
            node_id = ids[fact.key] = len(ids) + 1
            p = fact.provenance
            prov = (p.source_system, p.source, p.line, p.record_id, p.record_hash)
            nodes.append((node_id, fact.key, _KIND[fact.kind], props, label_of(fact.key, fact.props), now, *prov))
        edges: list[tuple[Any, ...]] = []
        for edge_id, edge in enumerate((e for e in batch.edges if e.op is EdgeOp.ASSERT), start=1):
            at = None if edge.at is None else edge.at.timestamp()  # facts hold aware datetimes
            until = None if edge.until is None else edge.until.timestamp()
            props = _dumps(edge.props)
            at_key = sql.NO_TIME if at is None else at
            src, dst = ids[edge.source], ids[edge.target]
            p = edge.provenance
            prov = (p.source_system, p.source, p.line, p.record_id, p.record_hash)
            edges.append((edge_id, _TYPE[edge.type], src, dst, at_key, at, until, props, 0, now, *prov))
        db.executemany(sql.INSERT_NODE_WITH_ID, nodes)
        db.executemany(sql.INSERT_EDGE_WITH_ID, edges)
        db.execute(sql.SET_FIRST_IDS, (1, 1, "raw"))
        db.execute(sql.SET_LAST_IDS, ("raw",))
        db.execute("COMMIT")
        return len(edges)
    finally:
        gc.enable()
        db.close()
