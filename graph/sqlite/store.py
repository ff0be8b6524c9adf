"""The embedded store: one SQLite file, WAL, transactional batches, versioned facts.

Several processes may use one file at once. SQLite serialises write transactions; a writer
that cannot get the lock within ``busy_timeout`` gets :class:`StoreBusyError`, never a
corrupt file. Facts are append-only: ``nodes`` and ``edges`` hold the current state,
``node_versions`` and ``edge_versions`` the history that ``as_of`` reads from.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from graph import collector
from graph.history import EXPORT_OPS, Version, VersionOp, merge_node, replay, where
from graph.port import GraphStore, SearchHit, Step
from graph.sqlite import sql
from graph.sqlite.index import TraversalIndex
from schema.errors import (
    InvalidInputError,
    MigrationRequiredError,
    NotFoundError,
    StoreBusyError,
    StoreError,
)
from schema.identifiers import key_kind
from schema.kinds import EdgeType, NodeKind
from schema.model import (
    ANY_SOURCE,
    BatchResult,
    EdgeFact,
    EdgeOp,
    EdgeView,
    FactBatch,
    FactVersion,
    NodeFact,
    NodeView,
    Provenance,
    StoreStats,
    TraceDirection,
    from_epoch,
    to_epoch,
    utc,
)

_CHUNK = 500  # keys per IN (...) list: well under SQLite's variable limit


def _dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


# Enum ``.value`` is a Python-level property; bulk loads look the strings up instead.
_KIND_VALUE = {k: k.value for k in NodeKind}
_TYPE_VALUE = {t: t.value for t in EdgeType}


def _epoch(value: datetime) -> float:
    """``to_epoch`` without its UTC conversion for the aware datetimes facts hold (same float)."""
    return value.timestamp() if value.tzinfo is not None else to_epoch(value)


def _marks(n: int) -> str:
    return ",".join("?" * n)


def label_of(key: str, props: Mapping[str, Any]) -> str | None:
    """A short human label used by search: a name, else a lot or serial, else nothing."""
    for field in ("name", "lot", "serial", "code", "title"):
        value = props.get(field)
        if value:
            return str(value)
    return None


def _prov_row(p: Provenance) -> tuple[str, str, int | None, str | None, str | None]:
    return (p.source_system, p.source, p.line, p.record_id, p.record_hash)


def _prov(row: Sequence[Any]) -> Provenance:
    return Provenance(source_system=row[0], source=row[1], line=row[2], record_id=row[3], record_hash=row[4])


class SQLiteStore(GraphStore):
    backend = "sqlite"

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0, traversal_index: bool = True) -> None:
        """``traversal_index``: answer traces of the current state from an in-memory index
        (built on the first trace, kept up to date with the file); off, every hop is SQL."""
        self.path = Path(path)
        self.use_traversal_index = traversal_index
        self._index: TraversalIndex | None = None
        self._index_stamp: tuple[int, int] = (-1, -1)
        #: Times the traversal index was built from the file (not patched or grown from the last).
        self.index_builds = 0
        self._commits = 0  # own commits: PRAGMA data_version only counts other connections' ones
        self._index_lock = threading.Lock()
        self.location = str(self.path)
        self.busy_timeout = busy_timeout
        existed = self.path.exists()
        if not existed:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Owner-only from the first byte: traceability data is commercially sensitive.
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=busy_timeout, check_same_thread=False)
            if self.path.stat().st_size == 0:
                for pragma in sql.NEW_FILE_PRAGMAS:
                    self._db.execute(pragma)
            self._db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path} is not a TraceGraph SQLite store: {exc}") from exc
        for pragma in sql.CONNECTION_PRAGMAS:
            self._db.execute(pragma)
        self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        self._db.close()

    def schema_version(self) -> int:
        if self._db.execute(sql.HAS_META).fetchone() is None:
            return 0
        row = self._db.execute(sql.GET_SCHEMA_VERSION).fetchone()
        return int(row[0]) if row else 0

    def migrate(self) -> int:
        with self._write():
            current = self.schema_version()
            for version in range(current, sql.SCHEMA_VERSION):
                for statement in sql.MIGRATIONS[version].split(";"):
                    if statement.strip():
                        self._db.execute(statement)
                self._db.execute(sql.SET_SCHEMA_VERSION, (str(version + 1),))
        return sql.SCHEMA_VERSION

    def _require_schema(self) -> None:
        version = self.schema_version()
        if version < sql.SCHEMA_VERSION:
            raise MigrationRequiredError(
                f"the store {self.path} has schema version {version}, this software needs "
                f"{sql.SCHEMA_VERSION}: run `tracegraph migrate` (or load data, which migrates)"
            )

    class _Transaction:
        def __init__(self, store: SQLiteStore) -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            try:
                self.store._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise StoreBusyError(
                        f"another process is writing to {self.store.path} and did not finish within "
                        f"{self.store.busy_timeout:g} s; try again when its load has finished"
                    ) from exc
                raise StoreError(f"cannot write to {self.store.path}: {exc}") from exc
            return self.store._db

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            db = self.store._db
            if exc_type is None:
                try:
                    db.execute("COMMIT")
                except sqlite3.OperationalError as err:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise self.store._write_failed(err) from err
                self.store._commits += 1
            elif db.in_transaction:
                # SQLite has already rolled back after some errors (e.g. a full disk); a second
                # ROLLBACK would fail and hide the real error.
                db.execute("ROLLBACK")

    def _write(self) -> SQLiteStore._Transaction:
        return SQLiteStore._Transaction(self)

    # -- writing ---------------------------------------------------------------------
    def apply(self, batch: FactBatch) -> BatchResult:
        self._require_schema()
        try:
            # The rows built for a large batch hold no cycles: collections would only rescan them.
            large = len(batch.nodes) + len(batch.edges) >= 10_000
            with collector.paused() if large else nullcontext(), self._write() as db:
                return self._apply(db, batch)
        except sqlite3.OperationalError as exc:
            raise self._write_failed(exc) from exc

    def _write_failed(self, exc: sqlite3.OperationalError) -> StoreError:
        """One message for a write that SQLite refused, whether mid-batch or at commit."""
        if "full" in str(exc):
            return StoreError(f"the disk holding {self.path} is full; nothing of this batch was written")
        return StoreError(f"writing to {self.path} failed, nothing of this batch was written: {exc}")

    def _apply(self, db: sqlite3.Connection, batch: FactBatch) -> BatchResult:
        for probe, value in ((sql.FIND_BATCH_BY_HASH, batch.content_hash), (sql.FIND_BATCH_BY_ID, batch.batch_id)):
            if value is None:
                continue
            found = db.execute(probe, (value,)).fetchone()
            if found:
                return BatchResult(
                    batch_id=found[0], already_loaded=True, recorded_at=from_epoch(found[1]) or utc(datetime.now())
                )
        last = db.execute(sql.LAST_RECORDED).fetchone()[0]
        if batch.recorded_at is not None:
            now = to_epoch(batch.recorded_at) or time.time()
        else:
            now = time.time()
            if last is not None and now <= last:
                now = last + 1e-6  # recorded times strictly increase, whatever the clock does
        now = round(now, 6)  # whole microseconds, so a datetime round-trips exactly
        batch_id = batch.batch_id or uuid.uuid4().hex
        db.execute(sql.INSERT_BATCH, (batch_id, batch.source, batch.content_hash, now))

        first_new_node = db.execute(sql.MAX_NODE_ID).fetchone()[0] + 1
        first_new_edge = db.execute(sql.MAX_EDGE_ID).fetchone()[0] + 1
        # The batch's new nodes and edges get ids from here on: their sole versions are found by this.
        db.execute(sql.SET_FIRST_IDS, (first_new_node, first_new_edge, batch_id))
        # A first load: rows first, secondary indexes after (closing intervals needs them).
        deferred = (
            db.execute(sql.SECONDARY_INDEXES).fetchall()
            if first_new_node == 1 and len(batch.nodes) + len(batch.edges) >= sql.BULK_ROWS
            else []
        )
        for name, _create in deferred:
            db.execute(f'DROP INDEX "{name}"')
        ids, nodes_added, nodes_changed = self._apply_nodes(db, batch.nodes, batch_id, now)
        close = EdgeOp.CLOSE
        closes = [e for e in batch.edges if e.op is close]
        asserts = [e for e in batch.edges if e.op is not close] if closes else batch.edges
        # Endpoints that are no node yet: the assertions' are found as their identities are
        # (there, rarely); the closings' here.
        self._ensure_endpoints(db, closes, ids, batch_id, now)
        edges_added, edges_changed = self._apply_edges(db, asserts, ids, batch_id, now, first_new_node, first_new_edge)
        for _name, create in deferred:
            db.execute(create)
        for fact in closes:
            edges_changed += self._close(db, fact, ids, batch_id, now)
        retracted = self._retract_records(db, batch.retract_records, batch_id, now) if batch.retract_records else 0
        db.execute(sql.SET_LAST_IDS, (batch_id,))
        db.execute(
            sql.UPDATE_BATCH_COUNTS, (nodes_added + nodes_changed, edges_added + edges_changed + retracted, batch_id)
        )
        return BatchResult(
            batch_id=batch_id,
            nodes_added=nodes_added,
            nodes_changed=nodes_changed,
            edges_added=edges_added,
            edges_changed=edges_changed,
            retracted=retracted,
            recorded_at=from_epoch(now) or utc(datetime.now()),
        )

    def _lookup(self, db: sqlite3.Connection, keys: Sequence[str]) -> dict[str, tuple[int, str, str]]:
        found: dict[str, tuple[int, str, str]] = {}
        for chunk in _chunks(keys):
            for key, node_id, kind, props in db.execute(sql.NODES_BY_KEYS.format(marks=_marks(len(chunk))), chunk):
                found[key] = (node_id, kind, props)
        return found

    def _apply_nodes(
        self, db: sqlite3.Connection, facts: Sequence[NodeFact], batch_id: str, now: float
    ) -> tuple[dict[str, int], int, int]:
        """As edges: a new node's first version in its row (sole_*) while it is the only one."""
        # New rows get their ids here, as SQLite would (max + 1; the write lock is ours), so
        # they go in with one executemany instead of one INSERT per node for its lastrowid.
        next_id = first_new = db.execute(sql.MAX_NODE_ID).fetchone()[0] + 1
        # An empty store (a first load) has nothing to look up.
        existing = self._lookup(db, list(dict.fromkeys(f.key for f in facts))) if next_id > 1 else {}
        state: dict[str, tuple[int | None, str, dict[str, Any]]] = {
            key: (node_id, kind, orjson.loads(props)) for key, (node_id, kind, props) in existing.items()
        }
        added = changed = 0
        ids: dict[str, int] = {key: v[0] for key, v in existing.items()}
        inserts: dict[int, tuple[Any, ...]] = {}  # new nodes, final state
        updates: dict[int, tuple[Any, ...]] = {}  # existing nodes, final state
        versions: list[tuple[Any, ...]] = []
        spill: list[str] = []  # nodes from before given a version here
        for fact in facts:
            asserted = _dumps(fact.props)
            current = state.get(fact.key)
            p = fact.provenance
            if current is None:
                merged = fact.props  # read, never changed: a change makes a new dict
                node_id = next_id
                next_id += 1
                kind = _KIND_VALUE[fact.kind]
                inserts[node_id] = (
                    node_id, fact.key, kind, asserted, label_of(fact.key, merged), now,
                    p.source_system, p.source, p.line, p.record_id, p.record_hash,
                )  # fmt: skip
                ids[fact.key] = node_id
                state[fact.key] = (node_id, kind, merged)
                added += 1
                continue
            node_id, kind, props = current
            assert node_id is not None
            after = merge_node(fact, kind, props)
            if after is None:
                continue
            kind, merged = after[0].value, after[1]
            row = (kind, _dumps(merged), label_of(fact.key, merged))
            if node_id >= first_new:  # created earlier in this batch: insert its final state
                first = inserts[node_id]
                if first[6] is not None:  # its first version leaves the row, before this one
                    versions.append((node_id, batch_id, now, first[3], *first[6:]))
                inserts[node_id] = (node_id, fact.key, *row, now, None, None, None, None, None)
            else:
                spill.append(str(node_id))
                updates[node_id] = (*row, node_id)
            state[fact.key] = (node_id, kind, merged)
            changed += 1
            versions.append(
                (node_id, batch_id, now, asserted, p.source_system, p.source, p.line, p.record_id, p.record_hash)
            )
        db.executemany(sql.INSERT_NODE_WITH_ID, inserts.values())
        self._spill_sole_versions(db, sql.SPILL_SOLE_NODE_VERSIONS, sql.CLEAR_SOLE_NODE_VERSIONS, spill)
        db.executemany(sql.UPDATE_NODE, updates.values())
        db.executemany(sql.INSERT_NODE_VERSION, versions)
        return ids, added, changed

    def _ensure_endpoints(
        self, db: sqlite3.Connection, edges: Sequence[EdgeFact], ids: dict[str, int], batch_id: str, now: float
    ) -> None:
        """Endpoints named only by an edge become nodes when their key says what they are."""
        wanted = ({e.source for e in edges} | {e.target for e in edges}) - ids.keys()
        wanted.discard(ANY_SOURCE)
        if not wanted:
            return
        found = self._lookup(db, sorted(wanted))
        ids.update({key: v[0] for key, v in found.items()})
        if len(found) == len(wanted):
            return
        implied: dict[str, NodeFact] = {}
        for edge in edges:
            for key in (edge.source, edge.target):
                if key in ids or key == ANY_SOURCE or key in implied:
                    continue
                kind = key_kind(key)
                if kind is None:
                    where = edge.provenance.source + (f":{edge.provenance.line}" if edge.provenance.line else "")
                    raise InvalidInputError(
                        f"{where}: {edge.type.value} edge names {key}, which is neither loaded "
                        "nor a key whose kind is known"
                    )
                implied[key] = NodeFact(key=key, kind=kind, provenance=edge.provenance)
        if implied:
            new_ids, _, _ = self._apply_nodes(db, list(implied.values()), batch_id, now)
            ids.update(new_ids)

    def _apply_edges(
        self,
        db: sqlite3.Connection,
        asserts: Sequence[EdgeFact],
        ids: dict[str, int],
        batch_id: str,
        now: float,
        first_new_node: int,
        first_new_edge: int,
    ) -> tuple[int, int]:
        """Assertions and retractions (``asserts``; closings are applied after, by ``_close``).

        A new edge's first version goes into its own row (the sole_* columns) while it is the
        only one; an edge's second version moves the first to edge_versions, before it."""

        def identities() -> list[tuple[str, int, int, float]]:
            return [
                (_TYPE_VALUE[e.type], ids[e.source], ids[e.target], _epoch(e.at) if e.at else sql.NO_TIME)
                for e in asserts
            ]

        try:
            identity = identities()
        except KeyError:  # an endpoint no node yet
            self._ensure_endpoints(db, asserts, ids, batch_id, now)
            identity = identities()
        # Only an edge between two nodes that existed before this batch can be in the store
        # already: look those up (all of them on a reload, none on a first load).
        maybe_known = (
            [(seq, *ident) for seq, ident in enumerate(identity) if max(ident[1], ident[2]) < first_new_node]
            if first_new_node > 1
            else []
        )
        matched: dict[int, tuple[Any, ...]] = {}
        if maybe_known:
            db.execute(sql.CREATE_INCOMING)
            db.execute(sql.CLEAR_INCOMING)
            db.executemany(sql.INSERT_INCOMING, maybe_known)
            matched = {seq: tuple(row) for seq, *row in db.execute(sql.MATCH_INCOMING)}
            db.execute(sql.CLEAR_INCOMING)
        # Current state per edge identity, kept up to date as this batch changes it.
        state: dict[tuple[Any, ...], tuple[int, float | None, str, int]] = {
            identity[seq]: (row[0], row[1], row[2], row[3]) for seq, row in matched.items()
        }
        # The source records behind each edge: one record id (the usual case), else a set.
        supporters: dict[int, str | set[str]] = (
            dict(self._record_ids(db, [row[0] for row in matched.values()]))
            if matched and any(e.provenance.record_id for e in asserts)
            else {}
        )
        added = changed = 0
        # As for nodes: ids assigned here, rows written with executemany, final states only.
        next_id = first_new_edge
        inserts: dict[int, tuple[Any, ...]] = {}
        updates: dict[int, tuple[Any, ...]] = {}
        versions: list[tuple[Any, ...]] = []
        spill: list[str] = []  # edges from earlier batches given a version here
        dumps, sort_keys, retract = orjson.dumps, orjson.OPT_SORT_KEYS, EdgeOp.RETRACT
        for ident, fact in zip(identity, asserts, strict=True):
            known = state.get(ident)
            asserted_until = until = None if fact.until is None else _epoch(fact.until)
            props = dumps(fact.props, option=sort_keys).decode() if fact.props else "{}"
            p = fact.provenance
            if known is None and fact.op is not retract:
                # The usual case: an edge new to the store, its first version in its row.
                edge_id = next_id
                next_id += 1
                etype, src, dst, at_key = ident
                inserts[edge_id] = (
                    edge_id, etype, src, dst, at_key, None if fact.at is None else at_key, until, props, 0, now,
                    p.source_system, p.source, p.line, p.record_id, p.record_hash,
                )  # fmt: skip
                state[ident] = (edge_id, until, props, 0)
                added += 1
                continue
            if known is None:
                raise InvalidInputError(
                    f"{p.source}: cannot retract {fact.type.value} {fact.source} -> {fact.target}: not in the store"
                )
            retracted = 1 if fact.op is retract else 0
            op = VersionOp.RETRACT if retracted else VersionOp.ASSERT
            record_id = p.record_id
            edge_id, old_until, old_props, old_retracted = known
            if edge_id >= first_new_edge and edge_id not in supporters and inserts[edge_id][13] is not None:
                supporters[edge_id] = inserts[edge_id][13]  # the record of its first version, in its row
            if fact.op is EdgeOp.RETRACT:
                until, props = old_until, old_props
            elif until is None and old_until is not None:
                until = old_until  # a re-assertion without an end keeps the known end
            if (until, props, retracted) == (old_until, old_props, old_retracted):
                # The same fact again is one fact; from another source record it is
                # kept as support, so withdrawing one record does not lose the edge.
                seen = supporters.get(edge_id)
                if (
                    retracted
                    or record_id is None
                    or (seen is not None and (record_id == seen if isinstance(seen, str) else record_id in seen))
                ):
                    continue
                op = VersionOp.SUPPORT
            if edge_id >= first_new_edge:
                row = inserts[edge_id]
                if row[10] is not None:  # its first version leaves the row, before this one
                    versions.append((edge_id, batch_id, now, row[6], row[7], 0, VersionOp.ASSERT, row[6], *row[10:]))
                    inserts[edge_id] = row = (*row[:10], None, None, None, None, None)
                if op is not VersionOp.SUPPORT:  # insert its final state
                    inserts[edge_id] = (*row[:6], until, props, retracted, *row[9:])
            else:
                spill.append(str(edge_id))
                if op is not VersionOp.SUPPORT:
                    updates[edge_id] = (until, props, retracted, edge_id)
            if op is not VersionOp.SUPPORT:
                changed += 1
            if record_id is not None:
                seen = supporters.get(edge_id)
                if seen is None:
                    supporters[edge_id] = record_id
                elif isinstance(seen, str):
                    if seen != record_id:
                        supporters[edge_id] = {seen, record_id}
                else:
                    seen.add(record_id)
            state[ident] = (edge_id, until, props, retracted)
            versions.append(
                (
                    edge_id,
                    batch_id,
                    now,
                    until,
                    props,
                    retracted,
                    op,
                    asserted_until,
                    p.source_system,
                    p.source,
                    p.line,
                    record_id,
                    p.record_hash,
                )
            )
        db.executemany(sql.INSERT_EDGE_WITH_ID, inserts.values())
        self._spill_sole_versions(db, sql.SPILL_SOLE_EDGE_VERSIONS, sql.CLEAR_SOLE_EDGE_VERSIONS, spill)
        db.executemany(sql.UPDATE_EDGE, updates.values())
        db.executemany(sql.INSERT_EDGE_VERSION, versions)
        return added, changed

    @staticmethod
    def _spill_sole_versions(db: sqlite3.Connection, spill: str, clear: str, row_ids: Sequence[str]) -> None:
        """Move the sole versions of these nodes or edges (``spill`` and ``clear`` say which), if
        they have one, to the versions table: before a row changes or it gets another version."""
        for chunk in _chunks(list(dict.fromkeys(row_ids))):
            db.execute(spill.format(marks=_marks(len(chunk))), chunk)
            db.execute(clear.format(marks=_marks(len(chunk))), chunk)

    def _record_ids(self, db: sqlite3.Connection, edge_ids: Sequence[int]) -> dict[int, set[str]]:
        found: dict[int, set[str]] = defaultdict(set)
        for chunk in _chunks([str(i) for i in edge_ids]):
            for edge_id, record_id in db.execute(sql.RECORD_IDS_OF_EDGES.format(marks=_marks(len(chunk))), chunk):
                found[edge_id].add(record_id)
        return found

    def _close(self, db: sqlite3.Connection, fact: EdgeFact, ids: dict[str, int], batch_id: str, now: float) -> int:
        """End the open interval the item was in; an unpacking whose packing was never
        loaded becomes an interval with an unknown start (over-recall rather than miss)."""
        closed_at = to_epoch(fact.until if fact.until is not None else fact.at)
        if closed_at is None:
            raise InvalidInputError(f"{where(fact)}: closing {fact.type.value} needs a time")
        if fact.source == ANY_SOURCE:
            rows = db.execute(sql.OPEN_INTERVALS_INTO, (fact.type.value, ids[fact.target], closed_at)).fetchall()
        else:
            args = (ids[fact.source], fact.type.value, ids[fact.target])
            rows = db.execute(sql.OPEN_INTERVALS, (*args, closed_at)).fetchall()
            if not rows:
                unknown = db.execute(sql.UNKNOWN_START, (*args, sql.NO_TIME)).fetchone()
                if unknown is None:  # a new edge, its sole version in its row
                    row = (fact.type.value, args[0], args[2], sql.NO_TIME, None, closed_at, _dumps(fact.props), now)
                    db.execute(sql.INSERT_EDGE, (*row, *_prov_row(fact.provenance)))
                    return 1
                rows = [(unknown[0], None, unknown[2])] if unknown[1] is None or unknown[1] < closed_at else []
        self._spill_sole_versions(
            db, sql.SPILL_SOLE_EDGE_VERSIONS, sql.CLEAR_SOLE_EDGE_VERSIONS, [str(r[0]) for r in rows]
        )
        for edge_id, _at, props in rows:
            db.execute(sql.UPDATE_EDGE, (closed_at, props, 0, edge_id))
            db.execute(
                sql.INSERT_EDGE_VERSION,
                (edge_id, batch_id, now, closed_at, props, 0, VersionOp.CLOSE, closed_at, *_prov_row(fact.provenance)),
            )
        return len(rows)

    def _retract_records(self, db: sqlite3.Connection, record_ids: Sequence[str], batch_id: str, now: float) -> int:
        """Withdraw source records: every edge they touched is recomputed without them."""
        db.executemany(sql.INSERT_WITHDRAWN, [(r, batch_id, now) for r in dict.fromkeys(record_ids)])
        rows: list[tuple[int, float | None, str, int]] = []
        for chunk in _chunks(list(dict.fromkeys(record_ids))):
            rows.extend(db.execute(sql.EDGES_OF_RECORDS.format(marks=_marks(len(chunk))), (*chunk, *chunk)))
        history: dict[int, list[Version]] = defaultdict(list)
        for chunk in _chunks([str(r[0]) for r in rows]):
            for edge_id, op, asserted_until, props, record_id in db.execute(
                sql.EDGE_HISTORY.format(marks=_marks(len(chunk))), chunk
            ):
                history[edge_id].append(Version(op, asserted_until, props, record_id))
        mentioned = sorted({v.record_id for vs in history.values() for v in vs if v.record_id is not None})
        withdrawn: set[str] = set()
        for chunk in _chunks(mentioned):
            withdrawn.update(r for (r,) in db.execute(sql.WITHDRAWN_AMONG.format(marks=_marks(len(chunk))), chunk))
        prov = Provenance(source_system="retraction", source=batch_id)
        changed = 0
        for edge_id, until, props, retracted in rows:
            after = replay(history[edge_id], withdrawn)
            new = (after.until, after.props or props, 0) if after.present else (until, props, 1)
            if new == (until, props, retracted):
                continue
            self._spill_sole_versions(db, sql.SPILL_SOLE_EDGE_VERSIONS, sql.CLEAR_SOLE_EDGE_VERSIONS, [str(edge_id)])
            db.execute(sql.UPDATE_EDGE, (*new, edge_id))
            db.execute(
                sql.INSERT_EDGE_VERSION, (edge_id, batch_id, now, *new, VersionOp.WITHDRAW, None, *_prov_row(prov))
            )
            changed += 1
        return changed

    # -- reading ---------------------------------------------------------------------
    def traversal_index(self) -> TraversalIndex | None:
        """The in-memory traversal index, brought up to date with the file first (None when off)."""
        if not self.use_traversal_index or self._db.in_transaction:
            # Inside a write (another thread's, on this connection) reads would see rows that
            # may yet be rolled back: those traces take the SQL path.
            return None
        with self._index_lock:  # one build at a time when threads share the store
            # Cheap check first: data_version moves when another connection commits, _commits
            # when this one does; only then are the version tables read for what changed.
            stamp = (int(self._db.execute("PRAGMA data_version").fetchone()[0]), self._commits)
            if self._index is not None and stamp == self._index_stamp:
                return self._index
            self._require_schema()
            refreshed = self._index.refreshed(self._db) if self._index is not None else None
            if refreshed is None:
                self._index = None  # let the old arrays go before the new ones are built
                refreshed = TraversalIndex.build(self._db)
                self.index_builds += 1
            self._index = refreshed
            self._index_stamp = stamp
            return self._index

    def compact_traversal(
        self, keys: Sequence[str], direction: TraceDirection
    ) -> tuple[TraversalIndex, list[int]] | None:
        """For graph.trace: the index (both directions) and the positions of ``keys`` in it
        (None: trace with ``expand``)."""
        index = self.traversal_index()
        if index is None:
            return None
        positions = index.key_positions(keys)
        return None if positions is None else (index, positions)

    def expand(
        self, keys: Sequence[str], direction: TraceDirection, *, as_of: datetime | None = None
    ) -> Mapping[str, Sequence[Step]]:
        forward = direction is TraceDirection.FORWARD
        if as_of is None:
            query = sql.EXPAND_FORWARD if forward else sql.EXPAND_BACKWARD
            extra: tuple[Any, ...] = ()
        else:
            query = sql.EXPAND_FORWARD_AS_OF if forward else sql.EXPAND_BACKWARD_AS_OF
            extra = (to_epoch(as_of),)
        result: dict[str, list[Step]] = defaultdict(list)
        for chunk in _chunks(keys):
            for etype, src, dst, at, until, neighbour, kind in self._db.execute(
                query.format(marks=_marks(len(chunk))), (*extra, *chunk)
            ):
                here = src if forward else dst
                result[here].append(Step(EdgeType(etype), src, dst, at, until, neighbour, NodeKind(kind)))
        return result

    def kinds(self, keys: Iterable[str], *, as_of: datetime | None = None) -> dict[str, NodeKind]:
        self._require_schema()
        keys = list(keys)
        found: dict[str, NodeKind] = {}
        for chunk in _chunks(keys):
            if as_of is None:
                rows = self._db.execute(sql.KINDS.format(marks=_marks(len(chunk))), chunk)
            else:
                rows = self._db.execute(sql.KINDS_AS_OF.format(marks=_marks(len(chunk))), (*chunk, to_epoch(as_of)))
            found.update((key, NodeKind(kind)) for key, kind in rows)
        return found

    def node(self, key: str, *, as_of: datetime | None = None, edge_limit: int = 200) -> NodeView:
        self._require_schema()
        row = self._db.execute(sql.NODE, (key,)).fetchone()
        horizon = to_epoch(as_of) if as_of is not None else float("inf")
        if row is None or row[4] > horizon:
            raise NotFoundError(f"no node with key {key}" + (f" as of {as_of.isoformat()}" if as_of else ""))
        node_id, key, kind, _props, _first = row
        versions: list[FactVersion] = []
        props: dict[str, Any] = {}
        for recorded_at, batch_id, vprops, *prov in self._db.execute(sql.NODE_VERSIONS, (node_id,)):
            if recorded_at > horizon:
                break
            asserted = orjson.loads(vprops)
            props.update(asserted)
            versions.append(
                FactVersion(
                    recorded_at=from_epoch(recorded_at) or utc(datetime.now()),
                    batch_id=batch_id,
                    provenance=_prov(prov),
                    props=asserted,
                )
            )
        out = list(self._db.execute(sql.NODE_EDGES_OUT, (node_id, horizon, edge_limit + 1)))
        inc = list(self._db.execute(sql.NODE_EDGES_IN, (node_id, horizon, edge_limit + 1)))
        truncated = len(out) > edge_limit or len(inc) > edge_limit
        out, inc = out[:edge_limit], inc[:edge_limit]
        history = self._edge_versions([r[0] for r in out + inc], horizon)
        return NodeView(
            key=key,
            kind=NodeKind(kind),
            props=props,
            versions=tuple(versions),
            edges_out=tuple(self._edge_view(r, history) for r in out),
            edges_in=tuple(self._edge_view(r, history) for r in inc),
            edges_truncated=truncated,
        )

    def _edge_versions(self, edge_ids: Sequence[int], horizon: float) -> dict[int, list[FactVersion]]:
        history: dict[int, list[FactVersion]] = defaultdict(list)
        for chunk in _chunks([str(i) for i in edge_ids]):
            for edge_id, recorded_at, batch_id, until, props, retracted, *prov in self._db.execute(
                sql.EDGE_VERSIONS.format(marks=_marks(len(chunk))), chunk
            ):
                if recorded_at > horizon:
                    continue
                history[edge_id].append(
                    FactVersion(
                        recorded_at=from_epoch(recorded_at) or utc(datetime.now()),
                        batch_id=batch_id,
                        provenance=_prov(prov),
                        props=orjson.loads(props),
                        until=from_epoch(until),
                        retracted=bool(retracted),
                    )
                )
        return history

    @staticmethod
    def _edge_view(row: Sequence[Any], history: dict[int, list[FactVersion]]) -> EdgeView:
        edge_id, etype, src, dst, at, _until, _props, _retracted = row
        versions = history.get(edge_id, [])
        latest = versions[-1]
        return EdgeView(
            type=EdgeType(etype),
            source=src,
            target=dst,
            at=from_epoch(at),
            until=latest.until,
            props=latest.props,
            retracted=latest.retracted,
            versions=tuple(versions),
        )

    def search(self, text: str, *, kinds: Iterable[NodeKind] | None = None, limit: int = 20) -> list[SearchHit]:
        self._require_schema()
        needle = text.strip().lower()
        if not needle:
            return []
        kind_list = [k.value for k in kinds] if kinds else []
        kinds_sql = f"AND kind IN ({_marks(len(kind_list))})" if kind_list else ""
        rows = self._db.execute(sql.SEARCH.format(kinds=kinds_sql), (needle, needle, *kind_list, limit))
        return [SearchHit(key, NodeKind(kind), label) for key, kind, label in rows]

    def stats(self) -> StoreStats:
        version = self.schema_version()
        if version == 0:
            return StoreStats(
                backend=self.backend,
                location=self.location,
                schema_version=0,
                nodes_by_kind={},
                edges_by_type={},
                batches=0,
                last_loaded_at=None,
            )
        batches, last = self._db.execute(sql.COUNT_BATCHES).fetchone()
        return StoreStats(
            backend=self.backend,
            location=self.location,
            schema_version=version,
            nodes_by_kind=dict(sorted(self._db.execute(sql.COUNT_NODES).fetchall())),
            edges_by_type=dict(sorted(self._db.execute(sql.COUNT_EDGES).fetchall())),
            batches=batches,
            last_loaded_at=from_epoch(last),
        )

    def export_batches(self) -> Iterator[FactBatch]:
        self._require_schema()
        for batch_id, source, content_hash, recorded_at in self._db.execute(sql.EXPORT_BATCHES).fetchall():
            nodes = tuple(
                NodeFact(key=key, kind=NodeKind(kind), props=orjson.loads(props), provenance=_prov(prov))
                for _node, _version, key, kind, props, *prov in self._db.execute(sql.EXPORT_NODE_VERSIONS, (batch_id,))
            )
            edges = tuple(
                EdgeFact(
                    type=EdgeType(etype),
                    source=src,
                    target=dst,
                    at=from_epoch(at),
                    until=from_epoch(asserted_until),
                    props=orjson.loads(props),
                    op=EXPORT_OPS[op],
                    provenance=_prov(prov),
                )
                for _edge, _version, etype, src, dst, at, op, asserted_until, props, *prov in self._db.execute(
                    sql.EXPORT_EDGE_VERSIONS, (batch_id,)
                )
                if op != VersionOp.WITHDRAW  # recomputed from retract_records by the target
            )
            withdrawn = tuple(r for (r,) in self._db.execute(sql.EXPORT_WITHDRAWN, (batch_id,)))
            yield FactBatch(
                source=source,
                content_hash=content_hash,
                batch_id=batch_id,
                recorded_at=from_epoch(recorded_at),
                nodes=nodes,
                edges=edges,
                retract_records=withdrawn,
            )
