"""A compact in-memory traversal index over the embedded store's current edges.

A trace over SQL pays a query per hop and a Python object per edge it reads. This index
holds the traced edges of the current state (what ``expand`` returns when ``as_of`` is None)
as CSR arrays, one set per direction, each node's adjacency already in the order
:func:`graph.trace._step_order` gives, so a trace reads a whole BFS level with a few numpy
gathers and keeps paths identical to the SQL path's.

Per edge and direction it keeps the neighbour (int32), the type (int8) and the interval
(two float64): 21 bytes, 42 per edge, plus per node an id, a kind, a key rank, its inverse
and two offsets. Keys stay in one Python list, only to name the nodes a trace reaches.

:meth:`TraversalIndex.of_steps` builds the same arrays from a subgraph another store fetched
(the Neo4j adapter does, so both stores walk alike).

The index is built lazily (on the first trace) from one consistent read of ``nodes`` and
``edges``, and kept consistent with the file: every change to a node or an edge appends a
``node_versions`` or ``edge_versions`` row, and new nodes and edges get ids past the largest
ones, so the rows with ids past the ones the index has seen are exactly what changed since.
Interval ends and kinds change in place. New nodes and edges give a new index grown from this
one's arrays (the new keys merged into the key order, the new steps sorted into the CSR
arrays), without reading the file again; traces already running keep the arrays they started
with. A retraction, or an edge brought back, rebuilds the index. Building it also readies the
compiled walk of :mod:`graph.trace` (:func:`graph.trace.warm_walk`).
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from graph.sqlite import sql
from graph.trace import warm_walk
from schema.kinds import TRACED_EDGES, EdgeType, NodeKind

#: Codes of the small-integer arrays; the order is fixed for the life of a process only.
KIND_CODES: tuple[NodeKind, ...] = tuple(NodeKind)
TYPE_CODES: tuple[EdgeType, ...] = tuple(EdgeType)
_KIND_CODE = {k.value: i for i, k in enumerate(KIND_CODES)}
_TYPE_CODE = {t.value: i for i, t in enumerate(TYPE_CODES)}
#: Types compare as their string values in ``_step_order`` and in the sorted edge list.
TYPE_RANK = np.argsort(np.argsort(np.array([t.value for t in TYPE_CODES]))).astype(np.int8)

_TRACED = tuple(sorted(t.value for t in TRACED_EDGES))
_EDGES = sql.INDEX_EDGES.format(marks=",".join("?" * len(_TRACED)))
_NEW_EDGES = sql.INDEX_NEW_EDGES.format(marks=",".join("?" * len(_TRACED)))
#: Past this many changed edges a rebuild is about as cheap as patching one by one.
_PATCH_LIMIT = 5_000

Int32Array = npt.NDArray[np.int32]
Int64Array = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]


@dataclass(eq=False)
class Adjacency:
    """One direction: node ``i``'s steps are entries ``offsets[i]:offsets[i + 1]``."""

    offsets: Int64Array
    neighbour: Int32Array
    type: Int8Array
    at: FloatArray  # NaN when the edge has no time
    until: FloatArray  # +inf when the interval is open (as ``_step_order`` sorts it)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.offsets, self.neighbour, self.type, self.at, self.until))

    def steps(self) -> tuple[Int32Array, Int32Array, Int8Array, FloatArray, FloatArray]:
        """Every step as parallel arrays: node, neighbour, type, at, until."""
        here = np.repeat(np.arange(len(self.offsets) - 1, dtype=np.int32), np.diff(self.offsets))
        return here, self.neighbour, self.type, self.at, self.until

    def find(self, here: int, neighbour: int, type_code: int, at: float | None) -> int | None:
        """The entry of one edge in ``here``'s adjacency, if the index holds it."""
        lo, hi = int(self.offsets[here]), int(self.offsets[here + 1])
        want_at = np.nan if at is None else at
        for j in range(lo, hi):
            if self.neighbour[j] == neighbour and self.type[j] == type_code:
                have = float(self.at[j])
                if have == want_at or (have != have and want_at != want_at):
                    return j
        return None


@dataclass(eq=False)
class Watermarks:
    """The largest row ids the index has seen; rows past them are changes to apply."""

    node: int
    edge: int
    node_version: int
    edge_version: int


class TraversalIndex:
    """The traced edges of a SQLite store's current state, as CSR arrays (see the module doc)."""

    kind_codes = KIND_CODES
    type_codes = TYPE_CODES
    type_rank = TYPE_RANK

    def __init__(
        self,
        ids: Int64Array,
        keys: list[str],
        kinds: Int8Array,
        forward: Adjacency,
        backward: Adjacency,
        marks: Watermarks,
        key_order: Int32Array | None = None,
    ) -> None:
        self.ids = ids
        self.keys = keys
        self.kinds = kinds
        # Rank of each key in string order: sorting by it sorts by key, without comparing strings.
        # ``key_order`` is the inverse: the position of the key of each rank (given when known).
        if key_order is None:
            key_order = np.asarray(sorted(range(len(keys)), key=keys.__getitem__), dtype=np.int32)
        self.key_order: Int32Array = key_order
        self.key_rank: Int32Array = np.empty(len(keys), dtype=np.int32)
        self.key_rank[self.key_order] = np.arange(len(keys), dtype=np.int32)
        self._sorted_keys: list[str] | None = None  # keys in rank order, made on the first lookup
        self.forward = forward
        self.backward = backward
        self.marks = marks
        warm_walk()  # the walk's machine code, before the first trace that reads these arrays

    @property
    def node_count(self) -> int:
        return len(self.keys)

    @property
    def edge_count(self) -> int:
        return len(self.forward.neighbour)

    @property
    def nbytes(self) -> int:
        """Bytes of the traversal arrays (not the key strings)."""
        arrays = (self.ids, self.kinds, self.key_rank, self.key_order)
        return sum(a.nbytes for a in arrays) + self.forward.nbytes + self.backward.nbytes

    def _sorted(self) -> list[str]:
        """The keys in rank order (made on first use)."""
        if self._sorted_keys is None:
            self._sorted_keys = [self.keys[i] for i in self.key_order.tolist()]
        return self._sorted_keys

    def key_positions(self, keys: Sequence[str]) -> list[int] | None:
        """Positions of the nodes with the given keys (by binary search over the keys in
        rank order, no SQL); None when one is not in the index."""
        ordered = self._sorted()
        found: list[int] = []
        for key in keys:
            rank = bisect.bisect_left(ordered, key)
            if rank == len(ordered) or ordered[rank] != key:
                return None
            found.append(int(self.key_order[rank]))
        return found

    def positions(self, node_ids: Sequence[int]) -> list[int] | None:
        """Positions of the given node ids; None when one is not in the index."""
        wanted = np.asarray(node_ids, dtype=np.int64)
        found = np.searchsorted(self.ids, wanted)
        if len(wanted) and (found.max() >= len(self.ids) or not np.array_equal(self.ids[found], wanted)):
            return None
        positions: list[int] = found.tolist()
        return positions

    # -- building and keeping up to date -----------------------------------------------
    @classmethod
    def build(cls, db: sqlite3.Connection) -> TraversalIndex:
        """Read the current state in one read transaction, so the arrays and the watermarks agree."""
        with _snapshot(db):
            marks = Watermarks(*db.execute(sql.INDEX_WATERMARKS).fetchone())
            node_rows = db.execute(sql.INDEX_NODES).fetchall()
            edge_rows = db.execute(sql.INDEX_EDGES.format(marks=",".join("?" * len(_TRACED))), _TRACED).fetchall()
        ids = np.fromiter((r[0] for r in node_rows), dtype=np.int64, count=len(node_rows))
        keys = [r[1] for r in node_rows]
        kinds = np.fromiter((_KIND_CODE[r[2]] for r in node_rows), dtype=np.int8, count=len(node_rows))
        del node_rows
        m = len(edge_rows)
        types = np.fromiter((_TYPE_CODE[r[0]] for r in edge_rows), dtype=np.int8, count=m)
        src = np.searchsorted(ids, np.fromiter((r[1] for r in edge_rows), dtype=np.int64, count=m)).astype(np.int32)
        dst = np.searchsorted(ids, np.fromiter((r[2] for r in edge_rows), dtype=np.int64, count=m)).astype(np.int32)
        at = np.fromiter((np.nan if r[3] is None else r[3] for r in edge_rows), dtype=np.float64, count=m)
        until = np.fromiter((np.inf if r[4] is None else r[4] for r in edge_rows), dtype=np.float64, count=m)
        del edge_rows
        index = cls(ids, keys, kinds, _EMPTY, _EMPTY, marks)
        index.forward = index._adjacency(src, dst, types, at, until)
        index.backward = index._adjacency(dst, src, types, at, until)
        return index

    @classmethod
    def of_steps(
        cls, keys: list[str], kinds: Sequence[str], rows: Sequence[tuple[int, int, str, Any, Any]]
    ) -> TraversalIndex:
        """A one-direction graph from steps ``(here, neighbour, type, at, until)`` over positions
        in ``keys``: a subgraph fetched from another store (Neo4j), traced the same way."""
        m = len(rows)
        here = np.fromiter((r[0] for r in rows), dtype=np.int32, count=m)
        there = np.fromiter((r[1] for r in rows), dtype=np.int32, count=m)
        types = np.fromiter((_TYPE_CODE[r[2]] for r in rows), dtype=np.int8, count=m)
        at = np.fromiter((np.nan if r[3] is None else r[3] for r in rows), dtype=np.float64, count=m)
        until = np.fromiter((np.inf if r[4] is None else r[4] for r in rows), dtype=np.float64, count=m)
        codes = np.fromiter((_KIND_CODE[k] for k in kinds), dtype=np.int8, count=len(kinds))
        ids = np.arange(len(keys), dtype=np.int64)
        index = cls(ids, keys, codes, _EMPTY, _EMPTY, Watermarks(0, 0, 0, 0))
        index.forward = index.backward = index._adjacency(here, there, types, at, until)
        return index

    def _adjacency(
        self,
        here: Int32Array,
        there: Int32Array,
        types: Int8Array,
        at: FloatArray,
        until: FloatArray,
        *,
        extra: tuple[Int32Array, Int32Array, Int8Array, FloatArray, FloatArray] | None = None,
    ) -> Adjacency:
        """CSR arrays of the steps ``here -> there`` (and the ``extra`` steps, in the same
        columns), each node's steps in the order of _step_order: neighbour key, type, at
        (None first), until (None last)."""
        if extra is not None:
            more_here, more_there, more_types, more_at, more_until = extra
            here, there = np.concatenate((here, more_here)), np.concatenate((there, more_there))
            types = np.concatenate((types, more_types))
            at, until = np.concatenate((at, more_at)), np.concatenate((until, more_until))
        at_order = np.where(np.isnan(at), -np.inf, at)
        order = np.lexsort((until, at_order, TYPE_RANK[types], self.key_rank[there], here))
        counts = np.bincount(here, minlength=self.node_count)
        offsets = np.zeros(self.node_count + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return Adjacency(offsets, there[order], types[order], at[order], until[order])

    def _grown(
        self, new_nodes: Sequence[tuple[int, str, str]], new_edges: Sequence[tuple[Any, ...]], marks: Watermarks
    ) -> TraversalIndex | None:
        """A new index: this one's nodes and steps, and the rows added since (new node ids are
        past this index's, so its nodes keep their positions). The new keys are merged into the
        key order, and every step sorted into place in both directions; None when a new edge
        names a node neither index holds."""
        n_old, n_new = self.node_count, len(new_nodes)
        ids = np.concatenate((self.ids, np.fromiter((r[0] for r in new_nodes), dtype=np.int64, count=n_new)))
        keys = self.keys + [r[1] for r in new_nodes]
        kinds = np.concatenate(
            (self.kinds, np.fromiter((_KIND_CODE[r[2]] for r in new_nodes), dtype=np.int8, count=n_new))
        )
        # Each new key goes before the old key it is inserted before; the old keys keep their
        # order, moved up by the new ones before them.
        ordered = self._sorted()
        fresh = sorted(range(n_new), key=lambda i: new_nodes[i][1])
        inserted = np.fromiter(
            (bisect.bisect_left(ordered, new_nodes[i][1]) for i in fresh), dtype=np.int64, count=n_new
        )
        key_rank = np.empty(n_old + n_new, dtype=np.int64)
        key_rank[:n_old] = self.key_rank + np.searchsorted(inserted, self.key_rank, side="right")
        key_rank[n_old + np.asarray(fresh, dtype=np.int64)] = inserted + np.arange(n_new)
        key_order = np.empty(n_old + n_new, dtype=np.int32)
        key_order[key_rank] = np.arange(n_old + n_new, dtype=np.int32)

        m = len(new_edges)
        src_ids = np.fromiter((r[1] for r in new_edges), dtype=np.int64, count=m)
        dst_ids = np.fromiter((r[2] for r in new_edges), dtype=np.int64, count=m)
        src, dst = np.searchsorted(ids, src_ids), np.searchsorted(ids, dst_ids)
        if m and (
            max(src.max(), dst.max()) >= len(ids)
            or not (np.array_equal(ids[src], src_ids) and np.array_equal(ids[dst], dst_ids))
        ):
            return None
        types = np.fromiter((_TYPE_CODE[r[0]] for r in new_edges), dtype=np.int8, count=m)
        at = np.fromiter((np.nan if r[3] is None else r[3] for r in new_edges), dtype=np.float64, count=m)
        until = np.fromiter((np.inf if r[4] is None else r[4] for r in new_edges), dtype=np.float64, count=m)
        index = TraversalIndex(ids, keys, kinds, _EMPTY, _EMPTY, marks, key_order=key_order)
        src32, dst32 = src.astype(np.int32), dst.astype(np.int32)
        index.forward = index._adjacency(*self.forward.steps(), extra=(src32, dst32, types, at, until))
        index.backward = index._adjacency(*self.backward.steps(), extra=(dst32, src32, types, at, until))
        return index

    def refreshed(self, db: sqlite3.Connection) -> TraversalIndex | None:
        """The index with what changed since its watermarks: this one, patched in place, when
        only interval ends and kinds changed; a new one grown from it when nodes or edges were
        added (:meth:`_grown`); None when only a rebuild can (a retraction, an edge brought
        back, or too many changes to patch one by one)."""
        old = self.marks
        with _snapshot(db):
            marks = Watermarks(*db.execute(sql.INDEX_WATERMARKS).fetchone())
            nodes = db.execute(sql.INDEX_CHANGED_NODES, (old.node_version, old.node)).fetchall()
            edges = db.execute(sql.INDEX_CHANGED_EDGES, (old.edge_version, old.edge)).fetchmany(_PATCH_LIMIT + 1)
            if len(edges) > _PATCH_LIMIT:
                return None
            new_nodes = db.execute(sql.INDEX_NEW_NODES, (old.node,)).fetchall() if marks.node != old.node else []
            new_edges = db.execute(_NEW_EDGES, (old.edge, *_TRACED)).fetchall() if marks.edge != old.edge else []
        # Changed edges the index holds: (source, target, type code, at, new end, and the
        # edge's entries in this index's forward and backward arrays).
        moved: list[tuple[int, int, int, Any, float, int | None, int | None]] = []
        for _edge_id, etype, src_id, dst_id, at, until, retracted in edges:
            if etype not in _TYPE_CODE or EdgeType(etype) not in TRACED_EDGES:
                continue
            where = self.positions([src_id, dst_id])
            if where is None:
                return None
            src, dst = where
            code = _TYPE_CODE[etype]
            forward = self.forward.find(src, dst, code, at)
            if retracted or forward is None:
                return None  # a retraction, or a retracted edge back: the shape changes
            end = np.inf if until is None else until
            moved.append((src, dst, code, at, end, forward, self.backward.find(dst, src, code, at)))
        changed_kinds: list[tuple[int, int]] = []
        for node_id, kind in nodes:
            where = self.positions([node_id])
            if where is None:
                return None
            changed_kinds.append((where[0], _KIND_CODE[kind]))
        index = self._grown(new_nodes, new_edges, marks) if new_nodes or new_edges else self
        if index is None:
            return None
        # Only ends move here; an edge's place in the order never depends on its end, since
        # (neighbour, type, at) already tells apart the edges of one node. A grown index has
        # arrays of its own, with the nodes this one had at the same positions.
        for src, dst, code, at, end, forward, backward in moved:
            if index is not self:  # the entries moved with the steps sorted in
                forward, backward = index.forward.find(src, dst, code, at), index.backward.find(dst, src, code, at)
            if forward is None or backward is None:
                return None
            index.forward.until[forward] = end
            index.backward.until[backward] = end
        for position, code in changed_kinds:
            index.kinds[position] = code
        index.marks = marks
        return index


_EMPTY = Adjacency(
    np.zeros(1, dtype=np.int64),
    np.zeros(0, dtype=np.int32),
    np.zeros(0, dtype=np.int8),
    np.zeros(0, dtype=np.float64),
    np.zeros(0, dtype=np.float64),
)


class _snapshot:  # used like a function
    """One read transaction, so several SELECTs see one state of the file (WAL snapshot)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.began = False

    def __enter__(self) -> None:
        if not self.db.in_transaction:  # inside a caller's transaction, that one is the snapshot
            self.db.execute("BEGIN")
            self.began = True

    def __exit__(self, *_exc: object) -> None:
        if self.began:
            self.db.execute("COMMIT")
