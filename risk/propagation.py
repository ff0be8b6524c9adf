"""Risk propagation: anomaly probabilities carried downstream along the flow DAG.

Signals put *priors* on a few nodes (a supplier lot, a machine over a time window, a work
order). :func:`propagate` carries them downstream along edges with *transmission weights*
and combines the causes as a noisy-OR: a node is affected when any seed's anomaly reaches it,
each seed independently (see :func:`propagate` for why a seed's own paths are not combined
as independent). Every node keeps its most probable explaining path back to a seed.

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
    """P(node affected): the noisy-OR over seeds of each seed's prior times its reach."""
    path_probability: float
    """Probability of the most probable single explanation (seed prior times edge weights)."""
    parent: Hashable | None
    """The predecessor on that explanation; None for the seed itself."""
    seed: Hashable | None = None
    """The seed that explanation starts from."""


class Propagation(dict[Hashable, Risk]):
    """Node → :class:`Risk`, with each seed's parent pointers for :func:`explaining_path`."""

    def __init__(self) -> None:
        super().__init__()
        self.parents: dict[Hashable, dict[Hashable, Hashable | None]] = {}


def propagate(
    G: Any, priors: Mapping[Hashable, float], *, weight: str = "weight", edge_types: Iterable[EdgeType] | None = None
) -> Propagation:
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
    Propagation
        Node → :class:`Risk` for every node reachable from a seed with a positive probability.

    Notes
    -----
    Each seed is one cause, and whether it is real (its prior) is one event shared by every
    path from it. So each seed's *reach* is propagated on its own — the most reliable path,
    the largest product of edge weights from the seed, which is also the node's explaining
    path — and only then multiplied by the prior. Distinct seeds combine as independent causes,
    the noisy-OR::

        P(v) = 1 - prod over seeds s of (1 - prior(s) * R_s(v))

    A lot and its work order, both downstream of one seed, thus never count that seed twice
    where they meet again at a device (a noisy-OR over paths would, turning a prior of 0.5
    into 0.75). Nodes are visited in topological order; should the graph hold a cycle
    (rework), the edges that close it, found depth first from the seeds, are left out.

    Examples
    --------
    A lot (prior 0.5) consumed by a work order that also used a drifting machine (prior 0.2,
    of which 50 % of the use overlaps the drift); the work order's lot and the work order
    itself both lead to the device:

    >>> import networkx as nx
    >>> G = nx.DiGraph()
    >>> G.add_edge("lot", "wo", weight=1.0)
    >>> G.add_edge("machine", "wo", weight=0.5)
    >>> G.add_edge("wo", "product lot", weight=1.0)
    >>> G.add_edge("product lot", "device", weight=1.0)
    >>> G.add_edge("wo", "device", weight=1.0)
    >>> risk = propagate(G, {"lot": 0.5, "machine": 0.2})
    >>> round(risk["device"].probability, 3)  # 1 - (1 - 0.5) * (1 - 0.2 * 0.5)
    0.55
    >>> explaining_path(risk, "device")
    ['lot', 'wo', 'product lot', 'device']
    """
    wanted = None if edge_types is None else frozenset(edge_types)
    seeds = {n: float(p) for n, p in priors.items() if n in G and p > 0.0}
    result = Propagation()
    if not seeds:
        return result

    def follows(u: Hashable, v: Hashable) -> bool:
        return wanted is None or G.edges[u, v].get("type") in wanted

    order, back_edges = _topological_from(G, seeds, follows)
    position = {n: i for i, n in enumerate(order)}
    miss: dict[Hashable, float] = {}
    best: dict[Hashable, tuple[float, Hashable | None, Hashable]] = {}
    for seed in sorted(seeds, key=str):
        prior = seeds[seed]
        reach: dict[Hashable, float] = {seed: 1.0}
        path: dict[Hashable, tuple[float, Hashable | None]] = {seed: (1.0, None)}
        for node in _descendants_in_order(G, seed, follows, back_edges, position):
            top, parent = 0.0, None
            for u in G.predecessors(node):
                if u not in reach or (u, node) in back_edges or not follows(u, node):
                    continue
                through = float(G.edges[u, node].get(weight, 1.0)) * reach[u]
                if through > top or (through > 0.0 and through == top and parent is not None and str(u) < str(parent)):
                    top, parent = through, u
            if top > 0.0:
                reach[node] = top
                path[node] = (top, parent)
        result.parents[seed] = {n: path[n][1] for n in path}
        for node, r in reach.items():
            miss[node] = miss.get(node, 1.0) * (1.0 - prior * r)
            candidate = prior * path[node][0]
            if node not in best or candidate > best[node][0]:
                best[node] = (candidate, path[node][1], seed)
    for node in order:
        if node in miss and miss[node] < 1.0:
            top, parent, seed = best[node]
            result[node] = Risk(min(1.0, 1.0 - miss[node]), top, parent, seed)
    return result


def _descendants_in_order(
    G: Any,
    seed: Hashable,
    follows: Any,
    back_edges: set[tuple[Hashable, Hashable]],
    position: Mapping[Hashable, int],
) -> list[Hashable]:
    """The nodes below ``seed`` (not the seed), in the global topological order."""
    seen = {seed}
    stack = [seed]
    while stack:
        node = stack.pop()
        for child in G.successors(node):
            if child not in seen and (node, child) not in back_edges and follows(node, child):
                seen.add(child)
                stack.append(child)
    seen.discard(seed)
    return sorted(seen, key=position.__getitem__)


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
    parents = getattr(risks, "parents", {}).get(risks[node].seed) if node in risks else None
    path: list[Hashable] = []
    current: Hashable | None = node
    seen: set[Hashable] = set()
    while current is not None and current not in seen:
        seen.add(current)
        path.append(current)
        previous = risks[current].parent if current in risks else None
        current = previous if parents is None else parents.get(current)
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
    if hi <= lo:  # an instant
        return 1.0 if window[0] <= lo <= window[1] else 0.0
    inside = min(hi, window[1]) - max(lo, window[0])
    if inside <= 0:
        return 0.0
    length = hi - lo
    return 1.0 if math.isinf(length) else min(1.0, inside / length)


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
        if window is not None and (etype is EdgeType.USED_IN or data.get("until") is not None):
            share = window_overlap(data.get("at"), data.get("until"), window)
            weight, unit = weight * share, unit * share
        data["weight"] = weight
        data["unit_weight"] = unit


def carryover_seeds(
    runs: Mapping[str, Iterable[tuple[str, float | None, float | None]]],
    source: str,
    probability: float,
    *,
    runs_after: int = 2,
    decay: float = 0.9,
) -> dict[str, float]:
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
    seeds: dict[str, float] = {}
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
