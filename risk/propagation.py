"""Risk propagation: anomaly probabilities carried downstream along the flow DAG.

Signals put *priors* on a few nodes (a supplier lot, a machine over a time window, a work
order). :func:`propagate` carries them downstream as a noisy-OR: a node is affected when it
is anomalous itself or when any parent passes its anomaly on, each parent independently
with the edge's *transmission weight*::

    P(v) = 1 - (1 - prior(v)) * prod over parents u of (1 - w(u, v) * P(u))

and keeps, for every node, its most probable explaining path (the max-product chain of
weights back to a seed).

:func:`set_transmission` gives the edges their weights from what the graph says about them,
at two granularities:

``weight`` (lot level, what a recall scope decides on)
    A transfer carries the anomaly into the whole receiving lot: units made in one work
    order cannot be told apart, so any consumed quantity taints every unit of its output.
    Equipment transmits by the share of its use that falls in the anomaly window.
``unit_weight`` (unit level, what the expected affected count sums)
    A consumption carries the share of the work order's input of that part that came from
    the lot (by quantity), so ``sum(P_unit)`` over devices is the expected number of units
    that really hold the defective material.

Algorithms here take networkx graphs and plain mappings, never a store (DESIGN.md, "Risk").
Graphs follow one convention: node attribute ``kind`` (a :class:`~schema.kinds.NodeKind`),
edge attributes ``type`` (an :class:`~schema.kinds.EdgeType`), ``at``/``until`` (epoch
seconds or None) and, for consumption, ``quantity``; node attribute ``part`` names what a lot
is a lot of.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, NamedTuple

import networkx as nx

from schema.kinds import EdgeType, NodeKind

#: A closed time interval in epoch seconds; either end may be infinite.
Window = tuple[float, float]

#: Edges along which material (and so an anomaly) moves before devices are packed.
MATERIAL_EDGES = frozenset(
    {
        EdgeType.SUPPLIED,
        EdgeType.CONSUMED_BY,
        EdgeType.USED_IN,
        EdgeType.PRODUCED,
        EdgeType.INCLUDES,
        EdgeType.TRANSFORMED_INTO,
    }
)


class Risk(NamedTuple):
    """What propagation says of one node."""

    probability: float
    """P(node affected): the noisy-OR of its own prior and of everything upstream."""
    path_probability: float
    """Probability of the most probable single explanation (seed prior times edge weights)."""
    parent: Hashable | None
    """The predecessor on that explanation; None when the node's own prior explains it best."""


def propagate(
    G: Any, priors: Mapping[Hashable, float], *, weight: str = "weight", edge_types: Iterable[EdgeType] | None = None
) -> dict[Hashable, Risk]:
    """Noisy-OR propagation of ``priors`` downstream over ``G``.

    Parameters
    ----------
    G : networkx.DiGraph
        The flow graph; edges point downstream.
    priors : mapping
        Node → prior anomaly probability in [0, 1]. Nodes not in ``G`` are ignored.
    weight : str, optional
        Edge attribute holding the transmission weight (missing: 1.0).
    edge_types : iterable of EdgeType, optional
        Follow only edges whose ``type`` attribute is one of these (default: all edges).

    Returns
    -------
    dict
        Node → :class:`Risk` for every node reachable from a seed with a positive probability.

    Notes
    -----
    Nodes are visited in topological order, so every parent is final before its children.
    Should the graph hold a cycle (rework loops), the edges that close it, found depth first
    from the seeds, are left out: a cycle never feeds a node's risk back to itself. Two paths
    from the same seed count as independent causes, as the noisy-OR assumes; with a seed
    prior below 1 a diamond therefore raises a node a little above the prior.

    Examples
    --------
    A lot (prior 0.5) consumed by a work order that also used a drifting machine (prior 0.2,
    of which 50 % of the use overlaps the drift):

    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("lot", "wo", weight=1.0)
    >>> G.add_edge("machine", "wo", weight=0.5)
    >>> G.add_edge("wo", "device", weight=1.0)
    >>> risk = propagate(G, {"lot": 0.5, "machine": 0.2})
    >>> round(risk["device"].probability, 3)  # 1 - (1 - 0.5) * (1 - 0.5 * 0.2)
    0.55
    >>> explaining_path(risk, "device")
    ['lot', 'wo', 'device']
    """
    wanted = None if edge_types is None else frozenset(edge_types)
    seeds = {n: float(p) for n, p in priors.items() if n in G and p > 0.0}
    if not seeds:
        return {}

    def follows(u: Hashable, v: Hashable) -> bool:
        return wanted is None or G.edges[u, v].get("type") in wanted

    order, back_edges = _topological_from(G, seeds, follows)
    probability: dict[Hashable, float] = {}
    best: dict[Hashable, tuple[float, Hashable | None]] = {}
    for node in order:
        prior = seeds.get(node, 0.0)
        miss = 1.0 - prior
        top, parent = prior, None
        for u in G.predecessors(node):
            if u not in probability or (u, node) in back_edges or not follows(u, node):
                continue
            w = float(G.edges[u, node].get(weight, 1.0))
            if w <= 0.0:
                continue
            miss *= 1.0 - w * probability[u]
            through = w * best[u][0]
            if through > top or (through == top and parent is not None and str(u) < str(parent)):
                top, parent = through, u
        p = 1.0 - miss
        if p > 0.0:
            probability[node] = min(1.0, p)
            best[node] = (top, parent)
    return {n: Risk(probability[n], best[n][0], best[n][1]) for n in probability}


def _topological_from(
    G: Any, seeds: Mapping[Hashable, float], follows: Any
) -> tuple[list[Hashable], set[tuple[Hashable, Hashable]]]:
    """Nodes reachable from ``seeds`` in topological order, and the edges that close cycles."""
    state: dict[Hashable, int] = {}  # 1: on the DFS stack, 2: done
    back: set[tuple[Hashable, Hashable]] = set()
    finished: list[Hashable] = []
    for seed in sorted(seeds, key=str):
        if seed in state:
            continue
        state[seed] = 1
        stack: list[tuple[Hashable, Any]] = [(seed, iter(sorted(G.successors(seed), key=str)))]
        while stack:
            node, children = stack[-1]
            advanced = False
            for child in children:
                if not follows(node, child):
                    continue
                mark = state.get(child)
                if mark == 1:
                    back.add((node, child))
                elif mark is None:
                    state[child] = 1
                    stack.append((child, iter(sorted(G.successors(child), key=str))))
                    advanced = True
                    break
            if not advanced:
                state[node] = 2
                finished.append(node)
                stack.pop()
    finished.reverse()
    return finished, back


def explaining_path(risks: Mapping[Hashable, Risk], node: Hashable) -> list[Hashable]:
    """The most probable explaining path of ``node``, from its seed down to it.

    >>> risks = {"a": Risk(1.0, 1.0, None), "b": Risk(0.9, 0.9, "a")}
    >>> explaining_path(risks, "b")
    ['a', 'b']
    """
    path: list[Hashable] = []
    current: Hashable | None = node
    seen: set[Hashable] = set()
    while current is not None and current not in seen:
        seen.add(current)
        path.append(current)
        current = risks[current].parent if current in risks else None
    path.reverse()
    return path


def window_overlap(start: float | None, end: float | None, window: Window) -> float:
    """Share of the interval ``[start, end]`` that lies inside ``window`` (0 to 1).

    An interval without an end (still running) or without a start counts as fully inside
    when it overlaps the window at all: its length is unknown, its overlap is not.

    >>> window_overlap(0, 10, (5, 20))
    0.5
    >>> window_overlap(0, 10, (10, 20))
    0.0
    >>> window_overlap(0, None, (5, 6))
    1.0
    """
    lo = -math.inf if start is None else start
    hi = math.inf if end is None else end
    inside = min(hi, window[1]) - max(lo, window[0])
    if inside <= 0:
        return 0.0
    length = hi - lo
    if math.isinf(length):
        return 1.0
    if length <= 0:  # an instant inside the window
        return 1.0
    return min(1.0, inside / length)


def set_transmission(G: Any, *, windows: Mapping[Hashable, Window] | None = None) -> None:
    """Give every material edge of ``G`` its transmission weights, in place.

    Sets ``weight`` (lot level) and ``unit_weight`` (unit level) as the module docstring
    describes. ``windows`` are the anomaly windows of seeds (a machine out of calibration
    from t1 to t2): an edge leaving a seed with a window transmits by the share of its own
    interval inside the window (interval edges: equipment use), and not at all when they do
    not overlap, exactly as a trace leaves a start only along time-bounded edges that
    overlap its window.

    Examples
    --------
    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_node("lot:A", kind=NodeKind.MATERIAL_LOT, part="part:LUER")
    >>> G.add_node("lot:B", kind=NodeKind.MATERIAL_LOT, part="part:LUER")
    >>> G.add_edge("lot:A", "wo:1", type=EdgeType.CONSUMED_BY, quantity=300)
    >>> G.add_edge("lot:B", "wo:1", type=EdgeType.CONSUMED_BY, quantity=700)
    >>> G.add_edge("equipment:X", "wo:1", type=EdgeType.USED_IN, at=0.0, until=100.0)
    >>> set_transmission(G, windows={"equipment:X": (50.0, 400.0)})
    >>> G.edges["lot:A", "wo:1"]["weight"], G.edges["lot:A", "wo:1"]["unit_weight"]
    (1.0, 0.3)
    >>> G.edges["equipment:X", "wo:1"]["weight"]
    0.5
    """
    windows = windows or {}
    # The input of each work order per part, to turn a consumed quantity into a share.
    totals: dict[tuple[Hashable, Any], float] = {}
    for u, v, data in G.edges(data=True):
        if data.get("type") is EdgeType.CONSUMED_BY and data.get("quantity") is not None:
            key = (v, G.nodes[u].get("part"))
            totals[key] = totals.get(key, 0.0) + float(data["quantity"])
    for u, v, data in G.edges(data=True):
        etype = data.get("type")
        if etype not in MATERIAL_EDGES:
            continue
        weight = 1.0
        unit = 1.0
        if etype is EdgeType.CONSUMED_BY:
            quantity = data.get("quantity")
            total = totals.get((v, G.nodes[u].get("part")))
            if quantity is not None and total:
                unit = min(1.0, float(quantity) / total)
                if float(quantity) <= 0.0:
                    weight = 0.0
        window = windows.get(u)
        if window is not None:
            if etype is EdgeType.USED_IN or data.get("until") is not None:
                share = window_overlap(data.get("at"), data.get("until"), window)
                weight, unit = weight * share, unit * share
        data["weight"] = weight
        data["unit_weight"] = unit


def carryover_seeds(
    runs: Mapping[Hashable, Iterable[tuple[Hashable, float | None, float | None]]],
    source: Hashable,
    probability: float,
    *,
    runs_after: int = 2,
    decay: float = 0.9,
) -> dict[Hashable, float]:
    """Priors for cross-contamination: a contaminated work order leaves residue on every
    machine it ran on, which reaches the next ``runs_after`` runs on that machine.

    Parameters
    ----------
    runs : mapping
        Machine → its uses as ``(work order, start, end)`` (epoch seconds).
    source : hashable
        The contaminated work order.
    probability : float
        Its own anomaly probability.
    runs_after : int, optional
        How many later runs on the same machine the carry-over reaches (until cleaning).
    decay : float, optional
        Each further run gets this factor less: residue thins out with every run.

    Examples
    --------
    >>> uses = {"equipment:M": [("wo:1", 0, 10), ("wo:2", 12, 20), ("wo:3", 21, 30), ("wo:4", 31, 40)]}
    >>> carryover_seeds(uses, "wo:2", 1.0)
    {'wo:3': 0.9, 'wo:4': 0.81}
    """
    seeds: dict[Hashable, float] = {}
    for uses in runs.values():
        ordered = sorted(uses, key=lambda use: (-math.inf if use[1] is None else use[1], str(use[0])))
        positions = [i for i, use in enumerate(ordered) if use[0] == source]
        if not positions:
            continue
        last = positions[-1]
        for k, (wo, _start, _end) in enumerate(ordered[last + 1 : last + 1 + runs_after], 1):
            if wo == source:
                continue
            p = probability * decay**k
            seeds[wo] = max(seeds.get(wo, 0.0), round(p, 12))
    return seeds


def is_device(G: Any, node: Hashable) -> bool:
    return G.nodes[node].get("kind") is NodeKind.DEVICE
