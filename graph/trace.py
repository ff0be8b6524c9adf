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

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from graph import collector
from schema.errors import NotFoundError
from schema.identifiers import canonical_key
from schema.kinds import INTERVAL_EDGES, TERMINAL_KINDS, TRACED_EDGES, EdgeType, NodeKind
from schema.model import TraceDirection, TraceEdge, TraceNode, TraceQuery, TraceResult, to_epoch, trusted_factory

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
    start_kinds = store.kinds(starts, as_of=as_of)
    missing = [s for s in starts if s not in start_kinds]
    if missing:
        raise NotFoundError(f"no node with key {', '.join(missing)}" + (f" as of {as_of.isoformat()}" if as_of else ""))

    window: Interval = None
    if query.window is not None and not query.ignore_time:
        lo = to_epoch(query.window.start)
        hi = to_epoch(query.window.end)
        window = (-_INF if lo is None else lo, _INF if hi is None else math.nextafter(hi, _INF))

    compact: CompactTraversal | None = getattr(store, "compact_traversal", None)
    found = compact(starts, query.direction) if compact is not None and as_of is None else None
    if found is not None:
        graph, positions = found
        return _run_compact(graph, positions, starts, start_kinds, window, query, max_states, deadline)

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


def _run_compact(
    graph: CompactGraph,
    positions: list[int],
    starts: tuple[str, ...],
    start_kinds: dict[str, NodeKind],
    window: Interval,
    query: TraceQuery,
    max_states: int | None,
    deadline: float | None,
) -> TraceResult:
    """:func:`run_trace` over a compact graph: the walk, then the answer made of it."""
    walk = walk_compact(graph, positions, [start_kinds[k] for k in starts], window, query, max_states, deadline)
    return _compact_result(graph, walk, starts, query)


@dataclass
class CompactWalk:
    """What a walk over a compact graph found, before it becomes a :class:`TraceResult`."""

    state_node: list[int]
    state_parent: list[int]
    node_kind: dict[int, int]
    first_state: dict[int, int]
    degree: dict[int, int]
    edge_codes: list[int]  # (source * nodes + target) * types + type, per traversed step
    start_set: frozenset[int]
    is_partial: bool


def walk_compact(
    graph: CompactGraph,
    positions: list[int],
    start_kinds: list[NodeKind],
    window: Interval,
    query: TraceQuery,
    max_states: int | None = None,
    deadline: float | None = None,
) -> CompactWalk:
    """The BFS of :func:`run_trace`, state for state and step for step, on integer node
    positions, with each level's adjacency gathered by numpy at once (bench/ times it alone).

    Every branch below mirrors one in the generic loop and in :func:`step_constraint`. The
    conformance suite checks both stores against a reference; tests/unit/test_traversal_index.py
    checks this path against the generic one (SQL per hop) on random plants, paths included.
    """
    with collector.paused():  # a tuple or an object per state, node and edge; no cycles
        return _walk_compact(graph, positions, start_kinds, window, query, max_states, deadline)


def _walk_compact(
    graph: CompactGraph,
    positions: list[int],
    start_kinds: list[NodeKind],
    window: Interval,
    query: TraceQuery,
    max_states: int | None,
    deadline: float | None,
) -> CompactWalk:
    kind_codes, type_codes = graph.kind_codes, graph.type_codes
    container = kind_codes.index(NodeKind.CONTAINER)
    terminal = frozenset(kind_codes.index(k) for k in TERMINAL_KINDS)
    packed_in, shipped_in = type_codes.index(EdgeType.PACKED_IN), type_codes.index(EdgeType.SHIPPED_IN)
    interval_types = frozenset(type_codes.index(t) for t in INTERVAL_EDGES)
    forward = query.direction is TraceDirection.FORWARD
    backward = not forward
    adjacency = graph.forward if forward else graph.backward
    ignore_time = query.ignore_time
    n_types = len(type_codes)
    n_nodes = len(graph.keys)

    # Parallel arrays over states, as in run_trace, with node positions for keys.
    state_node: list[int] = []
    state_constraint: list[Interval] = []
    state_parent: list[int] = []
    # A node reached once without a constraint subsumes every later state of it; the
    # intervals of the others are kept per node, as ``seen`` keeps them in run_trace.
    free: set[int] = set()
    seen: dict[int, list[tuple[float, float]]] = {}
    node_kind: dict[int, int] = {}
    first_state: dict[int, int] = {}
    degree: dict[int, int] = {}
    # Traversed edges as one integer each: (source * n_nodes + target) * n_types + type.
    edge_codes: list[int] = []

    frontier: list[int] = []
    for kind, node in zip(start_kinds, positions, strict=True):
        state_node.append(node)
        state_constraint.append(window)
        state_parent.append(-1)
        if window is None:
            free.add(node)
        else:
            seen[node] = [window]
        node_kind[node] = kind_codes.index(kind)
        first_state[node] = len(state_node) - 1
        degree[node] = 0
        frontier.append(len(state_node) - 1)

    start_set = frozenset(positions)
    is_partial = False
    depth = 0
    while frontier and (query.max_depth is None or depth < query.max_depth):
        if deadline is not None and time.monotonic() > deadline:
            is_partial = True
            break
        expandable = [s for s in frontier if state_node[s] in start_set or node_kind[state_node[s]] not in terminal]
        ranges, nbrs, nbr_kinds, types, ats, untils = _gather(graph, adjacency, {state_node[s] for s in expandable})
        next_frontier: list[int] = []
        for s in expandable:
            node = state_node[s]
            constraint = state_constraint[s]
            here_container = node_kind[node] == container
            lo, hi = ranges[node]
            # This state's edges as codes: the node's part is the same for all its steps.
            here_code = node * n_nodes * n_types if forward else node * n_types
            other_scale = n_types if forward else n_nodes * n_types
            for j in range(lo, hi):
                other = nbrs[j]
                etype = types[j]
                carried: Interval
                if ignore_time:
                    carried = None
                elif etype in interval_types:
                    at = ats[j]
                    edge_lo = at if at == at else -_INF  # NaN: no time
                    edge_hi = untils[j]
                    if constraint is None:
                        narrowed = (edge_lo, edge_hi)
                    else:
                        n_lo, n_hi = max(constraint[0], edge_lo), min(constraint[1], edge_hi)
                        if not n_lo < n_hi:
                            continue
                        narrowed = (n_lo, n_hi)
                    carried = narrowed if etype == packed_in and nbr_kinds[j] == container else None
                else:
                    at = ats[j]
                    outside = constraint is not None and at == at and not constraint[0] <= at < constraint[1]
                    if here_container and outside:
                        continue
                    if backward and etype == shipped_in and nbr_kinds[j] == container and at == at:
                        carried = _point(at)
                    else:
                        carried = None
                edge_codes.append(here_code + other * other_scale + etype)
                if other in free:
                    continue
                visited = seen.get(other)
                if visited is not None and carried is not None and any(_subsumes(v, carried) for v in visited):
                    continue
                if max_states is not None and len(state_node) >= max_states:
                    is_partial = True
                    break
                state_node.append(other)
                state_constraint.append(carried)
                state_parent.append(s)
                new_state = len(state_node) - 1
                if visited is None:
                    node_kind[other] = nbr_kinds[j]
                    first_state[other] = new_state
                    degree[other] = depth + 1
                if carried is None:
                    free.add(other)
                elif visited is None:
                    seen[other] = [carried]
                else:
                    visited.append(carried)
                next_frontier.append(new_state)
            if is_partial:
                break
        if is_partial:
            break
        frontier = next_frontier
        depth += 1

    return CompactWalk(
        state_node, state_parent, node_kind, first_state, degree, edge_codes, frozenset(positions), is_partial
    )


def _compact_result(graph: CompactGraph, walk: CompactWalk, starts: tuple[str, ...], query: TraceQuery) -> TraceResult:
    """The answer of a walk, exactly as run_trace builds it from its own walk."""
    kind_codes, type_codes = graph.kind_codes, graph.type_codes
    n_types, n_nodes = len(type_codes), len(graph.keys)
    state_node, state_parent, node_kind = walk.state_node, walk.state_parent, walk.node_kind
    first_state, degree, start_set = walk.first_state, walk.degree, walk.start_set
    keys, key_rank = graph.keys, graph.key_rank

    path_of = _paths(lambda state: keys[state_node[state]], state_parent)
    reached = [n for n in first_state if n not in start_set]
    if query.kinds is not None:
        wanted = frozenset(kind_codes.index(k) for k in query.kinds)
        reached = [n for n in reached if node_kind[n] in wanted]
    # By (degree, key): key ranks order as the keys do.
    positions_reached = np.asarray(reached, dtype=np.int64)
    degrees = np.fromiter((degree[n] for n in reached), dtype=np.int64, count=len(reached))
    reached = positions_reached[np.lexsort((key_rank[positions_reached], degrees))].tolist()
    total = len(reached)
    truncated = query.limit is not None and total > query.limit
    listed = reached[: query.limit] if query.limit is not None else reached
    nodes = tuple(
        [
            _node(key=keys[n], kind=kind_codes[node_kind[n]], degree=degree[n], path=path_of(first_state[n]))
            for n in listed
        ]
    )
    codes = np.sort(np.asarray(walk.edge_codes, dtype=np.int64))
    codes = codes[np.concatenate(([True], codes[1:] != codes[:-1]))] if len(codes) else codes  # as a set would
    edge_type = codes % n_types
    target = (codes // n_types) % n_nodes
    source = codes // (n_types * n_nodes)
    if truncated:
        keep = np.zeros(n_nodes, dtype=bool)
        keep[list(start_set)] = True
        keep[listed] = True
        inside = keep[source] & keep[target]
        edge_type, target, source = edge_type[inside], target[inside], source[inside]
    # Sorted as run_trace sorts (source key, target key, type value) tuples.
    order = np.lexsort((graph.type_rank[edge_type], key_rank[target], key_rank[source]))
    edges = tuple(
        [
            _edge(source=keys[a], target=keys[b], type=type_codes[t])
            for a, b, t in zip(source[order].tolist(), target[order].tolist(), edge_type[order].tolist(), strict=True)
        ]
    )
    return _result(
        starts=starts,
        direction=query.direction,
        total=total,
        truncated=truncated,
        is_partial=walk.is_partial,
        nodes=nodes,
        edges=edges,
    )


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


def _gather(
    graph: CompactGraph, adjacency: CompactAdjacency, nodes: set[int]
) -> tuple[dict[int, tuple[int, int]], list[int], list[int], list[int], list[float], list[float]]:
    """The steps of ``nodes`` as flat Python lists (one numpy gather per field for a whole BFS
    level, instead of a slice per state), with each node's range in them."""
    unique = np.fromiter(nodes, dtype=np.int64, count=len(nodes))
    begin = adjacency.offsets[unique]
    counts = adjacency.offsets[unique + 1] - begin
    flat_begin = np.cumsum(counts) - counts
    picks = np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(flat_begin - begin, counts)
    neighbours = adjacency.neighbour[picks]
    flat_end = flat_begin + counts
    ranges = dict(zip(unique.tolist(), zip(flat_begin.tolist(), flat_end.tolist(), strict=True), strict=True))
    fields: tuple[Any, ...] = (
        neighbours.tolist(),
        graph.kinds[neighbours].tolist(),
        adjacency.type[picks].tolist(),
        adjacency.at[picks].tolist(),
        adjacency.until[picks].tolist(),
    )
    return (ranges, *fields)
