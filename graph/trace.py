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
from typing import TYPE_CHECKING

from schema.errors import NotFoundError
from schema.identifiers import canonical_key
from schema.kinds import INTERVAL_EDGES, TERMINAL_KINDS, TRACED_EDGES, EdgeType, NodeKind
from schema.model import TraceDirection, TraceEdge, TraceNode, TraceQuery, TraceResult, to_epoch

if TYPE_CHECKING:
    from graph.port import GraphStore, Step

#: A half-open time interval ``[lo, hi)`` in epoch seconds; ``None`` means unconstrained.
Interval = tuple[float, float] | None

_INF = math.inf


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


def run_trace(
    store: GraphStore, query: TraceQuery, *, max_states: int | None = None, deadline: float | None = None
) -> TraceResult:
    """Run ``query`` on ``store``; ``max_states`` and ``deadline`` (a ``time.monotonic()``
    value) bound the work, and the result says ``is_partial`` when either cut it short."""
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

    def path_of(state: int) -> tuple[str, ...]:
        path: list[str] = []
        while state != -1:
            path.append(state_key[state])
            state = state_parent[state]
        return tuple(reversed(path))

    reached = [k for k in first_state if k not in start_set]
    if query.kinds is not None:
        reached = [k for k in reached if kinds[k] in query.kinds]
    reached.sort(key=lambda k: (degree[k], k))
    total = len(reached)
    truncated = query.limit is not None and total > query.limit
    listed = reached[: query.limit] if query.limit is not None else reached
    nodes = tuple(TraceNode(key=k, kind=kinds[k], degree=degree[k], path=path_of(first_state[k])) for k in listed)
    if truncated:
        keep = start_set | {n.key for n in nodes}
        edge_rows = sorted(e for e in edges if e[0] in keep and e[1] in keep)
    else:
        edge_rows = sorted(edges)
    return TraceResult(
        starts=starts,
        direction=query.direction,
        total=total,
        truncated=truncated,
        is_partial=is_partial,
        nodes=nodes,
        edges=tuple(TraceEdge(source=a, target=b, type=t) for a, b, t in edge_rows),
    )
