"""The trace semantics of DESIGN.md, written once for every store.

A trace is a breadth-first search over *states* ``(key, constraint)``. The constraint is a
time interval that only matters for containers: an item is inside a container only from its
packing to its unpacking, so a forward trace may leave a container (shipped, or packed into
a larger one) only at times the item was inside, and a backward trace from a container's
shipment finds only what was inside at that moment. Transfers (consumption, production,
shipment, delivery) are followed whatever their timestamps: a missed path under-recalls.
Parties (suppliers, consignees) and catalogue entries (parts) are reached but never passed
through unless a trace starts there.
"""

from __future__ import annotations

import functools
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from graph import collector
from schema.errors import InvalidInputError, NotFoundError
from schema.identifiers import canonical_key
from schema.kinds import INTERVAL_EDGES, TERMINAL_KINDS, TRACED_EDGES, EdgeType, NodeKind
from schema.model import TraceDirection, TraceEdge, TraceNode, TraceQuery, TraceResult, to_epoch, trusted_factory

try:
    import numba
except ImportError:  # no wheel for this platform: the numpy walk runs instead
    numba = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from graph.port import GraphStore, Step

#: A half-open time interval ``[lo, hi)`` in epoch seconds; ``None`` means unconstrained.
Interval = tuple[float, float] | None

_INF = math.inf

# Results are built from keys, kinds and types the store holds, valid by construction: one
# validated pydantic object per reached node and traversed edge was most of a large trace's time.
_node = trusted_factory(TraceNode)
_edge = trusted_factory(TraceEdge)
_result = trusted_factory(TraceResult)


def _point(t: float) -> tuple[float, float]:
    return (t, math.nextafter(t, _INF))


def _edge_interval(step: Step) -> tuple[float, float]:
    return (-_INF if step.at is None else step.at, _INF if step.until is None else step.until)


def _intersect(a: Interval, b: tuple[float, float]) -> tuple[float, float] | None:
    """Intersection of ``a`` (possibly unconstrained) with ``b``; None when they do not overlap."""
    if a is None:
        return b
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo < hi else None


def _within(t: float | None, c: Interval) -> bool:
    return c is None or t is None or c[0] <= t < c[1]


def _subsumes(seen: Interval, new: Interval) -> bool:
    if seen is None:
        return True
    if new is None:
        return False
    return seen[0] <= new[0] and new[1] <= seen[1]


def step_constraint(
    step: Step, constraint: Interval, here_kind: NodeKind, direction: TraceDirection
) -> tuple[bool, Interval]:
    """Whether a trace standing on a node with ``constraint`` may take ``step``, and the
    constraint it then carries. This function *is* the time semantics."""
    is_container = here_kind is NodeKind.CONTAINER
    next_is_container = step.neighbour_kind is NodeKind.CONTAINER
    if step.type in INTERVAL_EDGES:
        narrowed = _intersect(constraint, _edge_interval(step))
        if narrowed is None:
            return False, None
        # Only containers keep a constraint: an item's own history is not time-bounded.
        if step.type is EdgeType.PACKED_IN and next_is_container:
            return True, narrowed
        return True, None
    # A timestamped transfer leaves a constrained container only while the item was inside.
    if is_container and not _within(step.at, constraint):
        return False, None
    if (
        direction is TraceDirection.BACKWARD
        and step.type is EdgeType.SHIPPED_IN
        and next_is_container
        and step.at is not None
    ):
        # Backward from a shipment: the contents are what was inside at that moment.
        return True, _point(step.at)
    return True, None


def _step_order(step: Step) -> tuple[str, str, float, float]:
    # Stores return edges in any order; sorting makes paths (one of possibly several
    # shortest) and therefore whole answers identical across stores.
    return (
        step.neighbour,
        step.type.value,
        -_INF if step.at is None else step.at,
        _INF if step.until is None else step.until,
    )


class CompactAdjacency(Protocol):
    """One direction of a compact graph: node ``i``'s steps are entries ``offsets[i]:offsets[i+1]``,
    in :func:`_step_order` order, holding the traced edges of the current state only."""

    offsets: npt.NDArray[np.int64]
    neighbour: npt.NDArray[np.int32]
    type: npt.NDArray[np.int8]  # codes into ``CompactGraph.type_codes``
    at: npt.NDArray[np.float64]  # NaN: no time
    until: npt.NDArray[np.float64]  # +inf: open interval


class CompactGraph(Protocol):
    """What the specialised BFS reads (``graph.sqlite.index.TraversalIndex`` is one)."""

    keys: list[str]
    kinds: npt.NDArray[np.int8]  # codes into ``kind_codes``
    key_rank: npt.NDArray[np.int32]  # rank of each key in string order
    key_order: npt.NDArray[np.int32]  # the inverse: position of the key of each rank
    forward: CompactAdjacency
    backward: CompactAdjacency
    kind_codes: tuple[NodeKind, ...]
    type_codes: tuple[EdgeType, ...]
    type_rank: npt.NDArray[np.int8]  # rank of each type's value in string order


#: ``store.compact_traversal(starts, direction)``: a compact graph holding at least every step a
#: trace of the current state from ``starts`` can take in ``direction``, and the starts'
#: positions in it; None when the store has none to offer (the generic path then runs).
CompactTraversal = Callable[[Sequence[str], TraceDirection], "tuple[CompactGraph, list[int]] | None"]


def run_trace(
    store: GraphStore, query: TraceQuery, *, max_states: int | None = None, deadline: float | None = None
) -> TraceResult:
    """Run ``query`` on ``store``; ``max_states`` and ``deadline`` (a ``time.monotonic()``
    value) bound the work, and the result says ``is_partial`` when either cut it short."""
    with collector.paused():  # a tuple or an object per state, node and edge; no cycles
        return _run_trace(store, query, max_states, deadline)


def _run_trace(store: GraphStore, query: TraceQuery, max_states: int | None, deadline: float | None) -> TraceResult:
    starts = tuple(dict.fromkeys(canonical_key(s) for s in query.starts))
    as_of = query.as_of

    window: Interval = None
    if query.window is not None and not query.ignore_time:
        lo = to_epoch(query.window.start)
        hi = to_epoch(query.window.end)
        window = (-_INF if lo is None else lo, _INF if hi is None else math.nextafter(hi, _INF))

    # The store's compact graph first: it holds the starts' kinds too. It has no starts it
    # does not know, so a missing one is reported by the generic path below.
    compact: CompactTraversal | None = getattr(store, "compact_traversal", None)
    found = compact(starts, query.direction) if compact is not None and as_of is None else None
    if found is not None:
        graph, positions = found
        walk = walk_compact(graph, positions, None, window, query, max_states, deadline)
        return _compact_result(graph, walk, starts, query)

    start_kinds = store.kinds(starts, as_of=as_of)
    missing = [s for s in starts if s not in start_kinds]
    if missing:
        raise NotFoundError(f"no node with key {', '.join(missing)}" + (f" as of {as_of.isoformat()}" if as_of else ""))

    # Parallel arrays over states: key, constraint, parent state (-1 for starts).
    state_key: list[str] = []
    state_constraint: list[Interval] = []
    state_parent: list[int] = []
    seen: dict[str, list[Interval]] = {}
    kinds: dict[str, NodeKind] = dict(start_kinds)
    first_state: dict[str, int] = {}
    degree: dict[str, int] = {}
    edges: set[tuple[str, str, EdgeType]] = set()

    frontier: list[int] = []
    for key in starts:
        state_key.append(key)
        state_constraint.append(window)
        state_parent.append(-1)
        seen[key] = [window]
        first_state[key] = len(state_key) - 1
        degree[key] = 0
        frontier.append(len(state_key) - 1)

    start_set = frozenset(starts)
    is_partial = False
    depth = 0
    while frontier and (query.max_depth is None or depth < query.max_depth):
        if deadline is not None and time.monotonic() > deadline:
            is_partial = True
            break
        expandable = [s for s in frontier if state_key[s] in start_set or kinds[state_key[s]] not in TERMINAL_KINDS]
        adjacency = store.expand(list(dict.fromkeys(state_key[s] for s in expandable)), query.direction, as_of=as_of)
        next_frontier: list[int] = []
        for s in expandable:
            key = state_key[s]
            here_kind = kinds[key]
            constraint = state_constraint[s]
            for step in sorted(adjacency.get(key, ()), key=_step_order):
                if step.type not in TRACED_EDGES:
                    continue
                if query.ignore_time:
                    allowed, carried = True, None
                else:
                    allowed, carried = step_constraint(step, constraint, here_kind, query.direction)
                if not allowed:
                    continue
                edges.add((step.source, step.target, step.type))
                other = step.neighbour
                visited = seen.get(other)
                if visited is not None and any(_subsumes(v, carried) for v in visited):
                    continue
                if max_states is not None and len(state_key) >= max_states:
                    is_partial = True
                    break
                state_key.append(other)
                state_constraint.append(carried)
                state_parent.append(s)
                new_state = len(state_key) - 1
                if visited is None:
                    seen[other] = [carried]
                    kinds[other] = step.neighbour_kind
                    first_state[other] = new_state
                    degree[other] = depth + 1
                else:
                    visited.append(carried)
                next_frontier.append(new_state)
            if is_partial:
                break
        if is_partial:
            break
        frontier = next_frontier
        depth += 1

    path_of = _paths(state_key.__getitem__, state_parent)
    reached = [k for k in first_state if k not in start_set]
    if query.kinds is not None:
        reached = [k for k in reached if kinds[k] in query.kinds]
    reached.sort(key=lambda k: (degree[k], k))
    total = len(reached)
    truncated = query.limit is not None and total > query.limit
    listed = reached[: query.limit] if query.limit is not None else reached
    nodes = tuple([_node(key=k, kind=kinds[k], degree=degree[k], path=path_of(first_state[k])) for k in listed])
    if truncated:
        keep = start_set | {n.key for n in nodes}
        edge_rows = sorted(e for e in edges if e[0] in keep and e[1] in keep)
    else:
        edge_rows = sorted(edges)
    traversed = tuple([_edge(source=a, target=b, type=t) for a, b, t in edge_rows])
    return _result(
        starts=starts,
        direction=query.direction,
        total=total,
        truncated=truncated,
        is_partial=is_partial,
        nodes=nodes,
        edges=traversed,
    )


@dataclass
class CompactWalk:
    """What a walk over a compact graph found, as arrays, before it becomes a :class:`TraceResult`.

    States are numbered in the order the BFS creates them (starts first), so a state's parent
    always has a smaller number."""

    state_node: npt.NDArray[np.int64]
    state_parent: npt.NDArray[np.int64]  # -1 for starts
    node_kinds: npt.NDArray[np.int8]  # kind code per node position (the starts' as given)
    reached: npt.NDArray[np.int64]  # nodes other than the starts, in the order first reached
    first_state: npt.NDArray[np.int64]  # per ``reached`` node: the state that first reached it
    degree: npt.NDArray[np.int64]  # per ``reached`` node: hops from the nearest start
    # Per traversed edge its source key rank, target key rank and type rank as bit fields
    # (:func:`_width` bits for a node, for a type), unique: sorted, they are in the order of
    # the result's edge list.
    edge_codes: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    is_partial: bool


def walk_compact(
    graph: CompactGraph,
    positions: list[int],
    start_kinds: list[NodeKind] | None,
    window: Interval,
    query: TraceQuery,
    max_states: int | None = None,
    deadline: float | None = None,
) -> CompactWalk:
    """The BFS of :func:`run_trace` on integer node positions; ``start_kinds`` are the kinds
    the starts are traced as (None: their kinds in ``graph``).

    It runs compiled (:func:`_walk_kernel`, one state and one step at a time, as run_trace
    does) when numba is available, and as numpy array operations a whole level at a time
    otherwise (:data:`TRACE_KERNEL` says which). Both give the same arrays.

    The numpy walk gathers the steps of all its states with numpy, decides every step's
    constraint with array arithmetic (the rules of :func:`step_constraint`), and keeps the
    states the generic loop would keep, in the same order, so paths come out identical: an
    unconstrained state is kept when it is the first of its node (see :func:`_dedupe`).
    The conformance suite checks both stores against a reference; tests/unit/test_traversal_index.py
    checks this path against the generic one (SQL per hop) on random plants, paths included.
    """
    walk = _walk_compiled if TRACE_KERNEL == "numba" else _walk_compact
    with collector.paused():
        return walk(graph, positions, start_kinds, window, query, max_states, deadline)


_I64 = np.int64


def _walk_compact(
    graph: CompactGraph,
    positions: list[int],
    start_kinds: list[NodeKind] | None,
    window: Interval,
    query: TraceQuery,
    max_states: int | None,
    deadline: float | None,
) -> CompactWalk:
    type_codes = graph.type_codes
    terminal, interval_type, container, packed_in, shipped_in = _walk_codes(graph.kind_codes, type_codes)
    forward = query.direction is TraceDirection.FORWARD
    adjacency = graph.forward if forward else graph.backward
    offsets, neighbour, edge_types, edge_at, edge_until = (
        adjacency.offsets,
        adjacency.neighbour,
        adjacency.type,
        adjacency.at,
        adjacency.until,
    )
    n_nodes = len(graph.keys)
    node_bits, type_bits = _width(n_nodes), _width(len(type_codes))
    key_rank, type_rank = graph.key_rank, graph.type_rank.astype(_I64)

    starts, node_kinds = _start_kinds(graph, positions, start_kinds)
    is_start = np.zeros(n_nodes, dtype=bool)
    is_start[starts] = True
    visited = is_start.copy()
    # A node reached once without a constraint subsumes every later state of it (``free``);
    # the intervals of its constrained states are kept per node, as run_trace keeps ``seen``.
    free = np.zeros(n_nodes, dtype=bool)
    seen = _Intervals()
    if window is None:
        free[starts] = True
    else:
        seen.add(starts, np.full(len(starts), window[0]), np.full(len(starts), window[1]))

    # Per level: the states made (node, parent), the nodes first reached, the edges taken.
    state_nodes: list[npt.NDArray[np.int64]] = [starts]
    state_parents: list[npt.NDArray[np.int64]] = [np.full(len(starts), -1, dtype=_I64)]
    reached: list[npt.NDArray[np.int64]] = []
    first_states: list[npt.NDArray[np.int64]] = []
    degrees: list[npt.NDArray[np.int64]] = []
    edge_codes: list[npt.NDArray[np.int64]] = []
    n_states = len(starts)

    # The frontier: its states' numbers, nodes and constraints (``bound`` False: None).
    f_state = np.arange(len(starts), dtype=_I64)
    f_node = starts
    f_bound = np.full(len(starts), window is not None)
    f_lo = np.full(len(starts), -_INF if window is None else window[0])
    f_hi = np.full(len(starts), _INF if window is None else window[1])

    is_partial = False
    depth = 0
    while len(f_state) and (query.max_depth is None or depth < query.max_depth):
        if deadline is not None and time.monotonic() > deadline:
            is_partial = True
            break
        expandable = is_start[f_node] | ~terminal[node_kinds[f_node]]
        if not expandable.all():
            f_state, f_node, f_bound, f_lo, f_hi = (
                f_state[expandable],
                f_node[expandable],
                f_bound[expandable],
                f_lo[expandable],
                f_hi[expandable],
            )
        # Every step of every state, in the order the generic loop takes them.
        begin = offsets[f_node]
        counts = offsets[f_node + 1] - begin
        owner = np.repeat(np.arange(len(f_node), dtype=_I64), counts)
        picks = np.arange(len(owner), dtype=_I64) + np.repeat(begin - (np.cumsum(counts) - counts), counts)
        other = neighbour[picks].astype(_I64)
        etype = edge_types[picks]
        if query.ignore_time:
            allowed = np.ones(len(picks), dtype=bool)
            bound = np.zeros(len(picks), dtype=bool)
            lo = hi = np.zeros(len(picks))
        else:
            allowed, bound, lo, hi = _constraints(
                etype,
                edge_at[picks],
                edge_until[picks],
                node_kinds[other] == container,
                (node_kinds[f_node] == container)[owner],
                f_bound[owner],
                f_lo[owner],
                f_hi[owner],
                interval_type=interval_type,
                packed_in=packed_in,
                shipped_in=shipped_in,
                forward=forward,
            )
        taken = np.flatnonzero(allowed)
        kept = taken[_dedupe(other[taken], bound[taken], lo[taken], hi[taken], free, seen)]
        if max_states is not None and len(kept) and n_states + len(kept) > max_states:
            # The generic loop stops at the first state past the limit, having taken its step.
            cut = kept[max(max_states - n_states, 0)]
            kept = kept[: max(max_states - n_states, 0)]
            taken = taken[taken <= cut]
            is_partial = True
        here, there = f_node[owner[taken]], other[taken]
        source, target = (here, there) if forward else (there, here)
        ranks = (key_rank[source].astype(_I64) << node_bits) | key_rank[target]
        edge_codes.append((ranks << type_bits) | type_rank[etype[taken]])

        new_node = other[kept]
        new_state = np.arange(n_states, n_states + len(kept), dtype=_I64)
        state_nodes.append(new_node)
        state_parents.append(f_state[owner[kept]])
        first = _first_visits(new_node, visited)
        visited[new_node[first]] = True
        reached.append(new_node[first])
        first_states.append(new_state[first])
        degrees.append(np.full(len(first), depth + 1, dtype=_I64))
        new_bound = bound[kept]
        free[new_node[~new_bound]] = True
        n_states += len(kept)
        if is_partial:
            break
        f_state, f_node, f_bound, f_lo, f_hi = new_state, new_node, new_bound, lo[kept], hi[kept]
        depth += 1

    all_codes = np.concatenate(edge_codes) if edge_codes else np.zeros(0, dtype=_I64)
    return CompactWalk(
        state_node=np.concatenate(state_nodes),
        state_parent=np.concatenate(state_parents),
        node_kinds=node_kinds,
        reached=np.concatenate(reached) if reached else np.zeros(0, dtype=_I64),
        first_state=np.concatenate(first_states) if first_states else np.zeros(0, dtype=_I64),
        degree=np.concatenate(degrees) if degrees else np.zeros(0, dtype=_I64),
        edge_codes=_unique(all_codes),  # as a set would
        starts=starts,
        is_partial=is_partial,
    )


def _constraints(
    etype: npt.NDArray[np.int8],
    at: npt.NDArray[np.float64],
    until: npt.NDArray[np.float64],
    next_container: npt.NDArray[np.bool_],
    here_container: npt.NDArray[np.bool_],
    c_bound: npt.NDArray[np.bool_],
    c_lo: npt.NDArray[np.float64],
    c_hi: npt.NDArray[np.float64],
    *,
    interval_type: npt.NDArray[np.bool_],
    packed_in: int,
    shipped_in: int,
    forward: bool,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """:func:`step_constraint` for many steps at once: whether each is allowed, and the
    constraint it carries as (bound, lo, hi), bound False for None. ``at`` is NaN without a time."""
    timed = ~np.isnan(at)
    is_interval = interval_type[etype]
    # Interval edges: the constraint narrowed by the edge's interval, which must not be empty.
    edge_lo = np.where(timed, at, -_INF)
    n_lo = np.where(c_bound, np.maximum(c_lo, edge_lo), edge_lo)
    n_hi = np.where(c_bound, np.minimum(c_hi, until), until)
    interval_ok = ~c_bound | (n_lo < n_hi)
    interval_keeps = (etype == packed_in) & next_container
    # Transfers: a constrained container is left only at a time inside its constraint.
    with np.errstate(invalid="ignore"):
        outside = c_bound & timed & ~((c_lo <= at) & (at < c_hi))
    transfer_ok = ~(here_container & outside)
    transfer_keeps = timed & next_container & (etype == shipped_in) if not forward else np.zeros(len(at), dtype=bool)
    allowed = np.where(is_interval, interval_ok, transfer_ok)
    bound = np.where(is_interval, interval_keeps, transfer_keeps)
    lo = np.where(is_interval, n_lo, at)
    hi = np.where(is_interval, n_hi, np.nextafter(at, _INF))
    return allowed, bound, lo, hi


class _Intervals:
    """The constrained states' intervals so far, as parallel arrays (``seen`` in run_trace)."""

    def __init__(self) -> None:
        self.node = np.zeros(0, dtype=_I64)
        self.lo = np.zeros(0)
        self.hi = np.zeros(0)

    def add(self, node: npt.NDArray[np.int64], lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64]) -> None:
        if len(node):
            self.node = np.concatenate((self.node, node))
            self.lo = np.concatenate((self.lo, lo))
            self.hi = np.concatenate((self.hi, hi))


def _dedupe(
    nodes: npt.NDArray[np.int64],
    bound: npt.NDArray[np.bool_],
    lo: npt.NDArray[np.float64],
    hi: npt.NDArray[np.float64],
    free: npt.NDArray[np.bool_],
    seen: _Intervals,
) -> npt.NDArray[np.int64]:
    """Which of a level's candidate states (in order) the generic loop keeps, as indices.

    A candidate is dropped when an earlier state of its node subsumes it: any unconstrained
    one, or a constrained one whose interval contains its interval. So an unconstrained
    candidate is kept when its node had no unconstrained state before it (the first of the
    level, if the node was not ``free``), and a constrained one when no such state precedes
    it and no earlier interval of its node contains its own. Containment is transitive, so
    "earlier" may include candidates that were themselves dropped, and all are decided at once
    (:func:`_contained_in_earlier`). ``seen`` gets the kept intervals; ``free`` is the caller's.
    """
    alive = ~free[nodes]
    open_ = np.flatnonzero(alive & ~bound)
    unique_open, first = np.unique(nodes[open_], return_index=True)
    first_open = open_[first]  # per node of ``unique_open``
    kept_open = np.sort(first_open)
    closed = np.flatnonzero(alive & bound)
    if not len(closed):
        return kept_open
    if len(unique_open):
        # Constrained candidates after an unconstrained one of their node are subsumed by it.
        where = np.searchsorted(unique_open, nodes[closed]).clip(max=len(unique_open) - 1)
        closed = closed[~((unique_open[where] == nodes[closed]) & (first_open[where] < closed))]
        if not len(closed):
            return kept_open
    # The earlier intervals of these nodes, then the candidates, grouped by node in order.
    prior = np.flatnonzero(np.isin(seen.node, nodes[closed])) if len(seen.node) else np.zeros(0, dtype=_I64)
    group = np.concatenate((seen.node[prior], nodes[closed]))
    order = np.argsort(group, kind="stable")
    group = group[order]
    lows = np.concatenate((seen.lo[prior], lo[closed]))[order]
    highs = np.concatenate((seen.hi[prior], hi[closed]))[order]
    candidate = order >= len(prior)
    contained = _contained_in_earlier(group, lows, highs)
    kept_closed = closed[order[candidate & ~contained] - len(prior)]
    seen.add(nodes[kept_closed], lo[kept_closed], hi[kept_closed])
    return np.sort(np.concatenate((kept_open, kept_closed)))


def _contained_in_earlier(
    group: npt.NDArray[np.int64], lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64]
) -> npt.NDArray[np.bool_]:
    """For intervals in runs of equal ``group``: whether an earlier one of the same run contains
    each. Running extremes over each run decide most: the earlier interval with the smallest
    start (the largest end among those) contains this one, or the one with the largest end (the
    smallest start among those) does, or no earlier start or no earlier end is far enough out
    and none does. Only the intervals left undecided are compared with every earlier one."""
    n = len(group)
    run_start = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    starts_run = np.zeros(n, dtype=bool)
    starts_run[run_start] = True
    run = np.cumsum(starts_run) - 1
    later = ~starts_run
    span = n + 1
    lo_rank = np.unique(lo, return_inverse=True)[1].astype(_I64)
    hi_rank = np.unique(hi, return_inverse=True)[1].astype(_I64)
    # Smallest start first, then largest end: one key, ranked, shifted by run so that each
    # run's running minimum cannot see the runs before it (their keys are all larger).
    keys, by_lo = np.unique(lo_rank * span + (n - hi_rank), return_inverse=True)
    lowest = np.minimum.accumulate(by_lo.astype(_I64) - run * span)
    earlier = keys[(np.concatenate(([0], lowest[:-1])) + run * span).clip(0, len(keys) - 1)]
    start_ok = later & (earlier // span <= lo_rank)
    contained: npt.NDArray[np.bool_] = start_ok & (n - earlier % span >= hi_rank)
    # Largest end first, then smallest start, the same way with a running maximum.
    keys, by_hi = np.unique(hi_rank * span + (n - lo_rank), return_inverse=True)
    highest = np.maximum.accumulate(by_hi.astype(_I64) + run * span)
    earlier = keys[(np.concatenate(([0], highest[:-1])) - run * span).clip(0, len(keys) - 1)]
    end_ok = later & (earlier // span >= hi_rank)
    contained |= end_ok & (n - earlier % span <= lo_rank)
    undecided = np.flatnonzero(start_ok & end_ok & ~contained)
    if len(undecided):
        # Every pair (earlier j, undecided i) within a run.
        first = run_start[run[undecided]]
        before = undecided - first
        i = np.repeat(undecided, before)
        j = np.repeat(first, before) + np.arange(len(i)) - np.repeat(np.cumsum(before) - before, before)
        inside = (lo[j] <= lo[i]) & (hi[i] <= hi[j])
        contained[undecided] = np.bincount(i[inside], minlength=n)[undecided] > 0
    return contained


def _unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``np.unique`` by sorting (faster than its hash table for these many repeats)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if len(values) else values


def _first_visits(nodes: npt.NDArray[np.int64], visited: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """Indices of the first occurrence of each node in ``nodes`` not yet ``visited``, in order."""
    fresh = np.flatnonzero(~visited[nodes])
    _unique, first = np.unique(nodes[fresh], return_index=True)
    return fresh[np.sort(first)]


# -- the compiled walk -------------------------------------------------------------------


def _trace_kernel() -> str:
    """The walk :func:`walk_compact` runs: ``numba`` when it can be imported, else ``numpy``;
    the environment variable ``TRACEGRAPH_TRACE_KERNEL`` may force either."""
    chosen = os.environ.get("TRACEGRAPH_TRACE_KERNEL", "").strip().lower()
    if chosen not in ("", "numba", "numpy"):
        raise InvalidInputError(f"TRACEGRAPH_TRACE_KERNEL must be numba or numpy, not {chosen!r}")
    if chosen == "numba" and numba is None:
        raise InvalidInputError("TRACEGRAPH_TRACE_KERNEL=numba, but numba cannot be imported")
    return chosen or ("numpy" if numba is None else "numba")


#: ``numba`` or ``numpy``: the one place the walk is chosen (see :func:`_trace_kernel`).
TRACE_KERNEL = _trace_kernel()


def _njit(function: Callable[..., Any]) -> Any:
    """Compiled, its machine code cached on disk for later processes: beside the module, else
    in ``NUMBA_CACHE_DIR`` or the user's cache directory; in memory only when none is writable
    (a read-only install), each process then compiling it once."""
    if numba is None:
        return function
    try:
        return numba.njit(cache=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(function)


@_njit
def _grown(values: Any, needed: int) -> Any:
    """``values`` copied into an array of at least ``needed`` entries (doubling)."""
    bigger = np.empty(max(2 * len(values), needed), dtype=values.dtype)
    bigger[: len(values)] = values
    return bigger


@_njit
def _monotonic() -> float:
    with numba.objmode(now="float64"):
        now = time.monotonic()
    return now


@_njit
def _walk_kernel(
    offsets: Any,
    neighbour: Any,
    edge_type: Any,
    edge_at: Any,
    edge_until: Any,
    node_kinds: Any,
    key_rank: Any,
    type_rank: Any,
    starts: Any,
    terminal: Any,
    interval_type: Any,
    container: int,
    packed_in: int,
    shipped_in: int,
    forward: bool,
    ignore_time: bool,
    window_bound: bool,
    window_lo: float,
    window_hi: float,
    max_depth: int,
    max_states: int,
    deadline: float,
) -> Any:
    """run_trace's loop over the compact graph: states in the order it makes them, the rule
    of :func:`step_constraint` per step, a state dropped when an earlier one of its node
    subsumes it. ``max_depth`` and ``max_states`` are -1 for none, ``deadline`` +inf.
    Arrays grow between levels, each to hold whatever the next level may add, so that the
    level's loop (:func:`_walk_level`) never reallocates."""
    n_nodes = len(node_kinds)
    # Per node: 1 a start, 2 reached, 4 reached by an unconstrained state (``free``), 8 has
    # constrained states, whose intervals are a linked list from ``seen_head`` (``seen`` in
    # run_trace; left uninitialised, as most nodes never have one).
    flags = np.zeros(n_nodes, dtype=np.uint8)
    seen_head = np.empty(n_nodes, dtype=np.int64)
    capacity = max(64, 2 * len(starts))
    seen_next = np.empty(capacity, dtype=np.int64)
    seen_lo = np.empty(capacity)
    seen_hi = np.empty(capacity)
    state_node = np.empty(capacity, dtype=np.int64)
    state_parent = np.empty(capacity, dtype=np.int64)
    state_bound = np.empty(capacity, dtype=np.bool_)
    state_lo = np.empty(capacity)
    state_hi = np.empty(capacity)
    codes = np.empty(capacity, dtype=np.int64)
    reached = np.empty(n_nodes, dtype=np.int64)
    first_state = np.empty(n_nodes, dtype=np.int64)
    degree = np.empty(n_nodes, dtype=np.int64)
    # Counters: states, seen intervals, edge codes, reached nodes, and 1 when cut short.
    counts = np.zeros(5, dtype=np.int64)

    n_states, n_seen = 0, 0
    for node in starts:
        state_node[n_states] = node
        state_parent[n_states] = -1
        state_bound[n_states] = window_bound
        state_lo[n_states] = window_lo
        state_hi[n_states] = window_hi
        n_states += 1
        flags[node] |= 3
        if window_bound:
            seen_next[n_seen] = seen_head[node] if flags[node] & 8 else -1
            seen_lo[n_seen], seen_hi[n_seen] = window_lo, window_hi
            seen_head[node] = n_seen
            flags[node] |= 8
            n_seen += 1
        else:
            flags[node] |= 4
    counts[0], counts[1] = n_states, n_seen

    begin, end, depth = 0, n_states, 0
    while begin < end and (max_depth < 0 or depth < max_depth):
        if deadline < np.inf and _monotonic() > deadline:
            counts[4] = 1
            break
        steps = 0  # at most this many states, intervals and edges come of this level
        for state in range(begin, end):
            steps += offsets[state_node[state] + 1] - offsets[state_node[state]]
        if counts[0] + steps > len(state_node):
            needed = counts[0] + steps
            state_node, state_parent = _grown(state_node, needed), _grown(state_parent, needed)
            state_bound, state_lo, state_hi = (
                _grown(state_bound, needed),
                _grown(state_lo, needed),
                _grown(state_hi, needed),
            )
        if counts[1] + steps > len(seen_lo):
            needed = counts[1] + steps
            seen_next, seen_lo, seen_hi = _grown(seen_next, needed), _grown(seen_lo, needed), _grown(seen_hi, needed)
        if counts[2] + steps > len(codes):
            codes = _grown(codes, counts[2] + steps)
        _walk_level(
            offsets,
            neighbour,
            edge_type,
            edge_at,
            edge_until,
            node_kinds,
            key_rank,
            type_rank,
            terminal,
            interval_type,
            container,
            packed_in,
            shipped_in,
            forward,
            ignore_time,
            max_states,
            begin,
            end,
            depth,
            flags,
            seen_head,
            seen_next,
            seen_lo,
            seen_hi,
            state_node,
            state_parent,
            state_bound,
            state_lo,
            state_hi,
            codes,
            reached,
            first_state,
            degree,
            counts,
        )
        if counts[4]:
            break
        begin, end, depth = end, counts[0], depth + 1

    n_states, n_reached = counts[0], counts[3]
    return (
        state_node[:n_states],
        state_parent[:n_states],
        reached[:n_reached],
        first_state[:n_reached],
        degree[:n_reached],
        _sorted_unique(
            codes[: counts[2]],
            1 << (2 * _width(n_nodes) + _width(len(type_rank))),
            _width(n_nodes) + _width(len(type_rank)),
        ),
        counts[4] == 1,
    )


@_njit
def _walk_level(
    offsets: Any,
    neighbour: Any,
    edge_type: Any,
    edge_at: Any,
    edge_until: Any,
    node_kinds: Any,
    key_rank: Any,
    type_rank: Any,
    terminal: Any,
    interval_type: Any,
    container: int,
    packed_in: int,
    shipped_in: int,
    forward: bool,
    ignore_time: bool,
    max_states: int,
    begin: int,
    end: int,
    depth: int,
    flags: Any,
    seen_head: Any,
    seen_next: Any,
    seen_lo: Any,
    seen_hi: Any,
    state_node: Any,
    state_parent: Any,
    state_bound: Any,
    state_lo: Any,
    state_hi: Any,
    codes: Any,
    reached: Any,
    first_state: Any,
    degree: Any,
    counts: Any,
) -> None:
    """One level of :func:`_walk_kernel`: the states ``begin:end`` expanded, in order; the
    arrays have room for every step."""
    node_bits, type_bits = _width(len(node_kinds)), _width(len(type_rank))
    n_states, n_seen, n_codes, n_reached = counts[0], counts[1], counts[2], counts[3]
    for state in range(begin, end):
        here = state_node[state]
        here_kind = node_kinds[here]
        if terminal[here_kind] and not flags[here] & 1:
            continue
        here_container = here_kind == container
        here_rank = np.int64(key_rank[here])
        c_bound, c_lo, c_hi = state_bound[state], state_lo[state], state_hi[state]
        for step in range(offsets[here], offsets[here + 1]):
            other = np.int64(neighbour[step])
            etype = edge_type[step]
            bound, lo, hi = False, 0.0, 0.0
            if not ignore_time:
                at = edge_at[step]
                timed = not np.isnan(at)
                next_container = node_kinds[other] == container
                if interval_type[etype]:
                    lo = at if timed else -np.inf
                    hi = edge_until[step]
                    if c_bound:
                        lo, hi = max(c_lo, lo), min(c_hi, hi)
                        if not lo < hi:
                            continue
                    bound = etype == packed_in and next_container
                else:
                    if here_container and c_bound and timed and not (c_lo <= at < c_hi):
                        continue
                    bound = not forward and timed and etype == shipped_in and next_container
                    lo, hi = at, np.nextafter(at, np.inf)
            other_rank = np.int64(key_rank[other])
            pair = (here_rank << node_bits) | other_rank if forward else (other_rank << node_bits) | here_rank
            codes[n_codes] = (pair << type_bits) | type_rank[etype]
            n_codes += 1
            if flags[other] & 4:
                continue
            if bound:
                contained = False
                entry = seen_head[other] if flags[other] & 8 else -1
                while entry >= 0:
                    if seen_lo[entry] <= lo and hi <= seen_hi[entry]:
                        contained = True
                        break
                    entry = seen_next[entry]
                if contained:
                    continue
            if max_states >= 0 and n_states >= max_states:
                counts[4] = 1
                break
            state_node[n_states] = other
            state_parent[n_states] = state
            state_bound[n_states] = bound
            state_lo[n_states] = lo
            state_hi[n_states] = hi
            if not flags[other] & 2:
                flags[other] |= 2
                reached[n_reached] = other
                first_state[n_reached] = n_states
                degree[n_reached] = depth + 1
                n_reached += 1
            if bound:
                seen_next[n_seen] = seen_head[other] if flags[other] & 8 else -1
                seen_lo[n_seen], seen_hi[n_seen] = lo, hi
                seen_head[other] = n_seen
                flags[other] |= 8
                n_seen += 1
            else:
                flags[other] |= 4
            n_states += 1
        if counts[4]:
            break
    counts[0], counts[1], counts[2], counts[3] = n_states, n_seen, n_codes, n_reached


@_njit
def _width(n: int) -> int:
    """Bits that hold the numbers below ``n`` (at least one)."""
    bits = 1
    while (1 << bits) < n:
        bits += 1
    return bits


@_njit
def _sorted_unique(values: Any, bound: int, low_bits: int = 0) -> Any:
    """The distinct ``values`` (all in ``[0, bound)``), sorted: a least-significant-digit radix
    sort of their bits above ``low_bits``, linear where a comparison sort was most of a large
    walk's time; then each run of values that share those high bits sorted on its own (a
    walk's edge codes, high bits the source, arrive with each source's codes nearly in order,
    so those runs are short and mostly sorted already)."""
    n = len(values)
    if n < 1024:
        ordered = np.sort(values)
    else:
        bits = max(0, _width(bound) - low_bits)
        passes = (bits + 12) // 13  # digits of at most 13 bits: counts that stay in cache
        digit_bits = (bits + passes - 1) // passes if passes else 0
        ordered, spare = values.copy(), np.empty_like(values)
        counts = np.empty((1 << digit_bits) + 1, dtype=np.int64)
        for digit in range(passes):
            if _radix_pass(ordered, spare, counts, low_bits + digit * digit_bits, digit_bits):
                ordered, spare = spare, ordered
        if low_bits:
            _sort_runs(ordered, low_bits)
    distinct = 0
    for i in range(n):
        if i == 0 or ordered[i] != ordered[i - 1]:
            ordered[distinct] = ordered[i]
            distinct += 1
    return ordered[:distinct]


@_njit
def _sort_runs(values: Any, low_bits: int) -> None:
    """Sort in place each run of ``values`` sharing the bits above ``low_bits`` (by insertion
    when short, else with ``np.sort``); runs already in order are left as they are."""
    n = len(values)
    begin = 0
    while begin < n:
        high = values[begin] >> low_bits
        end, in_order = begin + 1, True
        while end < n and values[end] >> low_bits == high:
            in_order = in_order and values[end - 1] <= values[end]
            end += 1
        if not in_order:
            if end - begin <= 32:
                for i in range(begin + 1, end):
                    value, j = values[i], i - 1
                    while j >= begin and values[j] > value:
                        values[j + 1] = values[j]
                        j -= 1
                    values[j + 1] = value
            else:
                values[begin:end] = np.sort(values[begin:end])
        begin = end


@_njit
def _radix_pass(source: Any, target: Any, counts: Any, shift: int, digit_bits: int) -> bool:
    """``source`` stably ordered by its digit at ``shift`` into ``target``; False (and
    ``target`` untouched) when all values share that digit."""
    mask = (1 << digit_bits) - 1
    counts[:] = 0
    for value in source:
        counts[((value >> shift) & mask) + 1] += 1
    if counts.max() == len(source):
        return False
    for digit in range(1, len(counts)):
        counts[digit] += counts[digit - 1]
    for value in source:
        digit = (value >> shift) & mask
        target[counts[digit]] = value
        counts[digit] += 1
    return True


def _walk_compiled(
    graph: CompactGraph,
    positions: list[int],
    start_kinds: list[NodeKind] | None,
    window: Interval,
    query: TraceQuery,
    max_states: int | None,
    deadline: float | None,
) -> CompactWalk:
    """:func:`walk_compact` by :func:`_walk_kernel`."""
    terminal, interval_type, container, packed_in, shipped_in = _walk_codes(graph.kind_codes, graph.type_codes)
    forward = query.direction is TraceDirection.FORWARD
    adjacency = graph.forward if forward else graph.backward
    starts, node_kinds = _start_kinds(graph, positions, start_kinds)
    state_node, state_parent, reached, first_state, degree, edge_codes, is_partial = _walk_kernel(
        adjacency.offsets,
        adjacency.neighbour,
        adjacency.type,
        adjacency.at,
        adjacency.until,
        node_kinds,
        graph.key_rank,
        graph.type_rank,
        starts,
        terminal,
        interval_type,
        container,
        packed_in,
        shipped_in,
        forward,
        query.ignore_time,
        window is not None,
        -_INF if window is None else window[0],
        _INF if window is None else window[1],
        -1 if query.max_depth is None else query.max_depth,
        -1 if max_states is None else max_states,
        _INF if deadline is None else deadline,
    )
    return CompactWalk(
        state_node=state_node,
        state_parent=state_parent,
        node_kinds=node_kinds,
        reached=reached,
        first_state=first_state,
        degree=degree,
        edge_codes=edge_codes,
        starts=starts,
        is_partial=is_partial,
    )


def _start_kinds(
    graph: CompactGraph, positions: list[int], start_kinds: list[NodeKind] | None
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
    """The starts' positions, and the node kinds with the starts' kinds as the trace was asked
    them (a copy only when one differs from the graph's; None: the graph's own)."""
    starts = np.asarray(positions, dtype=_I64)
    if start_kinds is None:
        return starts, graph.kinds
    codes = np.asarray([graph.kind_codes.index(k) for k in start_kinds], dtype=np.int8)
    node_kinds = graph.kinds
    if len(starts) and not np.array_equal(node_kinds[starts], codes):
        node_kinds = node_kinds.copy()
        node_kinds[starts] = codes
    return starts, node_kinds


@functools.cache
def _walk_codes(
    kind_codes: tuple[NodeKind, ...], type_codes: tuple[EdgeType, ...]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], int, int, int]:
    """Per kind code whether it is terminal, per type code whether it is an interval edge, and
    the codes of a container, PACKED_IN and SHIPPED_IN."""
    terminal = np.isin(np.arange(len(kind_codes)), [kind_codes.index(k) for k in TERMINAL_KINDS])
    interval_type = np.isin(np.arange(len(type_codes)), [type_codes.index(t) for t in INTERVAL_EDGES])
    container = kind_codes.index(NodeKind.CONTAINER)
    return (
        terminal,
        interval_type,
        container,
        type_codes.index(EdgeType.PACKED_IN),
        type_codes.index(EdgeType.SHIPPED_IN),
    )


@_njit
def _by_degree_and_key(reached: Any, first_state: Any, degree: Any, key_rank: Any, key_order: Any) -> Any:
    """``reached``, ``first_state`` and ``degree`` ordered by degree, then key: the order of
    :func:`_compact_result` (``np.lexsort`` of the numpy walk), by one radix sort of the
    codes ``degree, key rank``, which are distinct as the nodes are."""
    n = len(reached)
    rank_bits = _width(len(key_rank))
    codes = np.empty(n, dtype=np.int64)
    highest = 0
    for i in range(n):
        codes[i] = (degree[i] << rank_bits) | np.int64(key_rank[reached[i]])
        highest = max(highest, degree[i])
    first_of = np.empty(len(key_rank), dtype=np.int64)
    for i in range(n):
        first_of[reached[i]] = first_state[i]
    ordered = _sorted_unique(codes, (highest + 1) << rank_bits)
    nodes, states, degrees = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    mask = (1 << rank_bits) - 1
    for i in range(n):
        node = np.int64(key_order[ordered[i] & mask])
        nodes[i], states[i], degrees[i] = node, first_of[node], ordered[i] >> rank_bits
    return nodes, states, degrees


@_njit
def _decoded_edges(codes: Any, node_bits: int, type_bits: int, key_order: Any, type_order: Any) -> Any:
    """Source and target positions and type codes of the walk's edge codes."""
    n = len(codes)
    source, target, types = np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64)
    node_mask, type_mask = (1 << node_bits) - 1, (1 << type_bits) - 1
    for i in range(n):
        code = codes[i]
        types[i] = type_order[code & type_mask]
        target[i] = key_order[(code >> type_bits) & node_mask]
        source[i] = key_order[code >> (type_bits + node_bits)]
    return source, target, types


def warm_walk() -> None:
    """Compile the walk (or load it from numba's cache) before a trace needs it: the first call
    of a process otherwise pays it (seconds to compile, a fraction of one to load). Runs a
    two-node graph with the array types of ``graph.sqlite.index.TraversalIndex``; a no-op
    once done, or when the numpy walk is in use."""
    if TRACE_KERNEL != "numba" or _decoded_edges.signatures:
        return
    n = np.zeros(1, dtype=np.int64)
    ranks = np.arange(2, dtype=np.int32)
    _by_degree_and_key(n, n, n, ranks, ranks)
    _walk_kernel(
        np.array([0, 1, 1], dtype=np.int64),
        np.array([1], dtype=np.int32),
        np.zeros(1, dtype=np.int8),
        np.zeros(1),
        np.full(1, _INF),
        np.zeros(2, dtype=np.int8),
        np.arange(2, dtype=np.int32),
        np.zeros(1, dtype=np.int8),
        n,
        np.zeros(1, dtype=bool),
        np.zeros(1, dtype=bool),
        0,
        0,
        0,
        True,
        False,
        False,
        -_INF,
        _INF,
        -1,
        -1,
        _INF,
    )
    _decoded_edges(n, 1, 1, ranks, n)  # last: its signature says all are ready


def _compact_result(graph: CompactGraph, walk: CompactWalk, starts: tuple[str, ...], query: TraceQuery) -> TraceResult:
    """The answer of a walk, as run_trace builds it from its own walk: totals, order and the
    edge list are settled here with numpy; node and edge objects (and paths) wait in a
    :class:`CompactListing` until the caller reads ``nodes`` or ``edges``."""
    kind_codes = graph.kind_codes
    n_types, n_nodes = len(graph.type_codes), len(graph.keys)
    reached, first_state, degree = walk.reached, walk.first_state, walk.degree
    if query.kinds is not None:
        wanted = np.isin(walk.node_kinds[reached], [kind_codes.index(k) for k in query.kinds])
        reached, first_state, degree = reached[wanted], first_state[wanted], degree[wanted]
    # By (degree, key): key ranks order as the keys do.
    codes = walk.edge_codes  # sorted as run_trace sorts (source key, target key, type value) tuples
    node_bits, type_bits = _width(n_nodes), _width(n_types)
    type_order = np.argsort(graph.type_rank)
    if TRACE_KERNEL == "numba":
        listed, first_state, degree = _by_degree_and_key(reached, first_state, degree, graph.key_rank, graph.key_order)
        source, target, edge_type = _decoded_edges(codes, node_bits, type_bits, graph.key_order, type_order)
    else:
        order = np.lexsort((graph.key_rank[reached], degree))
        listed, first_state, degree = reached[order], first_state[order], degree[order]
        edge_type = type_order[codes & ((1 << type_bits) - 1)]
        target = graph.key_order[(codes >> type_bits) & ((1 << node_bits) - 1)].astype(_I64)
        source = graph.key_order[codes >> (type_bits + node_bits)].astype(_I64)
    total = len(listed)
    truncated = query.limit is not None and total > query.limit
    if query.limit is not None:
        listed, first_state, degree = listed[: query.limit], first_state[: query.limit], degree[: query.limit]
    if truncated:
        keep = np.zeros(n_nodes, dtype=bool)
        keep[walk.starts] = True
        keep[listed] = True
        inside = keep[source] & keep[target]
        edge_type, target, source = edge_type[inside], target[inside], source[inside]
    listing = CompactListing(graph, walk, listed, first_state, degree, source, target, edge_type)
    return TraceResult.deferred(
        listing,
        starts=starts,
        direction=query.direction,
        total=total,
        truncated=truncated,
        is_partial=walk.is_partial,
    )


class CompactListing:
    """The listed nodes and edges of a compact walk as arrays (a :class:`TraceListing`): the
    objects, the JSON rows and the paths are built from them only when asked for."""

    def __init__(
        self,
        graph: CompactGraph,
        walk: CompactWalk,
        nodes: npt.NDArray[np.int64],
        first_state: npt.NDArray[np.int64],
        degree: npt.NDArray[np.int64],
        source: npt.NDArray[np.int64],
        target: npt.NDArray[np.int64],
        edge_type: npt.NDArray[np.int64],
    ) -> None:
        self._graph = graph
        self._walk = walk
        self._nodes, self._first_state, self._degree = nodes, first_state, degree
        self._source, self._target, self._edge_type = source, target, edge_type

    def __len__(self) -> int:
        return len(self._nodes)

    def keys(self) -> list[str]:
        keys = self._graph.keys
        return [keys[n] for n in self._nodes.tolist()]

    def counts_by_kind(self) -> dict[str, int]:
        counts = np.bincount(self._walk.node_kinds[self._nodes], minlength=len(self._graph.kind_codes))
        found = {self._graph.kind_codes[k].value: int(c) for k, c in enumerate(counts.tolist()) if c}
        return dict(sorted(found.items()))

    def paths(self) -> list[tuple[str, ...]]:
        """Each listed node's path: the keys of its first state's chain of parents, from a start.
        States are numbered parents first, so one pass in state order extends each parent's."""
        state_node, state_parent = self._walk.state_node, self._walk.state_parent
        chain = [self._first_state]
        level = self._first_state
        while len(level):
            level = state_parent[level]
            level = np.unique(level[level >= 0])
            chain.append(level)
        states = np.unique(np.concatenate(chain))
        parents = state_parent[states]
        parent_at = np.where(parents >= 0, np.searchsorted(states, parents), -1).tolist()
        keys = self._graph.keys
        known: list[tuple[str, ...]] = []
        for parent, node in zip(parent_at, state_node[states].tolist(), strict=True):
            known.append((keys[node],) if parent < 0 else (*known[parent], keys[node]))
        return [known[i] for i in np.searchsorted(states, self._first_state).tolist()]

    def _node_columns(self) -> tuple[list[str], list[NodeKind], list[int], list[tuple[str, ...]]]:
        keys, kind_codes = self._graph.keys, self._graph.kind_codes
        nodes = self._nodes.tolist()
        kinds = [kind_codes[k] for k in self._walk.node_kinds[self._nodes].tolist()]
        return [keys[n] for n in nodes], kinds, self._degree.tolist(), self.paths()

    def _edge_columns(self) -> tuple[list[str], list[str], list[EdgeType]]:
        keys, type_codes = self._graph.keys, self._graph.type_codes
        return (
            [keys[n] for n in self._source.tolist()],
            [keys[n] for n in self._target.tolist()],
            [type_codes[t] for t in self._edge_type.tolist()],
        )

    def nodes(self) -> tuple[TraceNode, ...]:
        with collector.paused():
            columns = self._node_columns()
            return tuple([_node(key=k, kind=t, degree=d, path=p) for k, t, d, p in zip(*columns, strict=True)])

    def edges(self) -> tuple[TraceEdge, ...]:
        with collector.paused():
            return tuple([_edge(source=a, target=b, type=t) for a, b, t in zip(*self._edge_columns(), strict=True)])

    def node_rows(self) -> list[dict[str, Any]]:
        with collector.paused():
            keys, kinds, degrees, paths = self._node_columns()
            values = {k: k.value for k in set(kinds)}
            return [
                {"key": k, "kind": values[t], "degree": d, "path": list(p)}
                for k, t, d, p in zip(keys, kinds, degrees, paths, strict=True)
            ]

    def edge_rows(self) -> list[dict[str, Any]]:
        with collector.paused():
            sources, targets, types = self._edge_columns()
            values = {t: t.value for t in set(types)}
            return [
                {"source": a, "target": b, "type": values[t]} for a, b, t in zip(sources, targets, types, strict=True)
            ]


def _paths(key_of: Callable[[int], str], state_parent: Sequence[int]) -> Callable[[int], tuple[str, ...]]:
    """``path_of(state)``: the keys from a start to ``state``. A node's path extends its
    parent state's, so each is one tuple concatenation of a remembered one."""
    known: dict[int, tuple[str, ...]] = {}

    def path_of(state: int) -> tuple[str, ...]:
        found = known.get(state)
        if found is not None:
            return found
        chain: list[int] = []
        while state != -1 and state not in known:
            chain.append(state)
            state = state_parent[state]
        path = () if state == -1 else known[state]
        for s in reversed(chain):
            path = known[s] = (*path, key_of(s))
        return path

    return path_of
