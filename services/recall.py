"""Recall scope as a use case: read the propagation subgraph through the port, then let
:mod:`risk.recall` decide.

The subgraph is what time-respecting forward traces from the seeds reach (one trace per
anomaly window), with every forward edge among those nodes read by ``expand`` into a
networkx DiGraph, and the quantities of consumption read from the work orders' edges (so a
lot's share of a work order's input is known, good lots included). Containment walks use
``graph.trace.step_constraint``: a device is placed exactly where a trace from it leads.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import networkx as nx

from graph.port import GraphStore, Step
from graph.trace import step_constraint
from risk.propagation import carryover_seeds
from risk.recall import DEFAULT_THRESHOLD, RecallScope, TraceComparison, recall_scope
from risk.signals.base import Seed
from schema.errors import InvalidInputError, NotFoundError
from schema.identifiers import canonical_key
from schema.kinds import EdgeType, NodeKind
from schema.model import TimeWindow, TraceDirection, TraceQuery, from_epoch, to_epoch

_CHUNK = 5_000


def seeds_from_keys(
    keys: Sequence[str], *, window: TimeWindow | None = None, probability: float = 1.0, carryover_runs: int = 0
) -> list[Seed]:
    """Seeds for ``recall --from KEY...``: each key anomalous with ``probability`` over ``window``."""
    span = None
    if window is not None:
        lo, hi = to_epoch(window.start), to_epoch(window.end)
        span = (float("-inf") if lo is None else lo, float("inf") if hi is None else hi)
    return [
        Seed(node=canonical_key(k), probability=probability, window=span, carryover_runs=carryover_runs)
        for k in dict.fromkeys(keys)
    ]


def expand_carryover(store: GraphStore, seeds: Sequence[Seed], *, as_of: datetime | None = None) -> list[Seed]:
    """Add the runs a contaminated work order's residue reaches (seeds with ``carryover_runs``)."""
    extra: list[Seed] = []
    for seed in seeds:
        if seed.carryover_runs <= 0:
            continue
        # A contaminated lot contaminates the runs that consumed it; a work order is one.
        runs_of_seed = [seed.node]
        kinds = store.kinds([seed.node], as_of=as_of)
        if kinds.get(seed.node) is not NodeKind.WORK_ORDER:
            hops = store.expand([seed.node], TraceDirection.FORWARD, as_of=as_of)
            runs_of_seed = sorted({s.neighbour for s in hops.get(seed.node, ()) if s.type is EdgeType.CONSUMED_BY})
        for run in runs_of_seed:
            back = store.expand([run], TraceDirection.BACKWARD, as_of=as_of)
            machines = sorted({s.neighbour for s in back.get(run, ()) if s.type is EdgeType.USED_IN})
            if not machines:
                continue
            uses = store.expand(machines, TraceDirection.FORWARD, as_of=as_of)
            history = {
                m: [(s.neighbour, s.at, s.until) for s in uses.get(m, ()) if s.type is EdgeType.USED_IN]
                for m in machines
            }
            for node, p in carryover_seeds(history, run, seed.probability, runs_after=seed.carryover_runs).items():
                extra.append(Seed(node=str(node), probability=p))
    return [*seeds, *extra]


def build_graph(
    store: GraphStore,
    seeds: Sequence[Seed],
    *,
    as_of: datetime | None = None,
    max_states: int | None = None,
) -> tuple[Any, set[str], bool]:
    """The propagation subgraph of ``seeds``: a DiGraph, the devices the traces reached, and
    whether a trace was cut short."""
    by_window: dict[tuple[float, float] | None, list[str]] = defaultdict(list)
    for seed in seeds:
        by_window[seed.window].append(seed.node)
    kinds: dict[str, NodeKind] = {}
    is_partial = False
    for span, starts in by_window.items():
        window = None
        if span is not None:
            window = TimeWindow(start=_dt(span[0]), end=_dt(span[1]))
        result = store.trace(
            TraceQuery(starts=tuple(dict.fromkeys(starts)), window=window, as_of=as_of), max_states=max_states
        )
        is_partial = is_partial or result.is_partial
        kinds.update((n.key, n.kind) for n in result.nodes)
        kinds.update(store.kinds(result.starts, as_of=as_of))
    G = nx.DiGraph()
    for key, kind in kinds.items():
        G.add_node(key, kind=kind)
    keys = sorted(kinds)
    for i in range(0, len(keys), _CHUNK):
        hops = store.expand(keys[i : i + _CHUNK], TraceDirection.FORWARD, as_of=as_of)
        for here, steps in hops.items():
            for step in steps:
                if step.neighbour in kinds:
                    _add_step(G, here, step)
    _add_lots_of_unlotted_devices(store, G, as_of=as_of)
    _add_consumption(store, G, as_of=as_of)
    _add_labels(store, G, as_of=as_of)
    devices = {k for k, kind in kinds.items() if kind is NodeKind.DEVICE}
    return G, devices, is_partial


def _dt(t: float) -> datetime | None:
    return None if t in (float("inf"), float("-inf")) else from_epoch(t)


def _add_step(G: Any, here: str, step: Step) -> None:
    if G.has_edge(here, step.neighbour):
        G.edges[here, step.neighbour]["steps"].append(step)
        return
    G.add_edge(here, step.neighbour, type=step.type, at=step.at, until=step.until, steps=[step])


def _add_lots_of_unlotted_devices(store: GraphStore, G: Any, *, as_of: datetime | None) -> None:
    """A device reached only through its work order (its label names a lot that is not
    downstream of the seeds) is still grouped under the lot its label names."""
    lotless = [
        n
        for n, kind in G.nodes(data="kind")
        if kind is NodeKind.DEVICE
        and not any(G.edges[u, n].get("type") is EdgeType.INCLUDES for u in G.predecessors(n))
    ]
    for i in range(0, len(lotless), _CHUNK):
        hops = store.expand(lotless[i : i + _CHUNK], TraceDirection.BACKWARD, as_of=as_of)
        for device, steps in hops.items():
            for step in steps:
                if step.type is EdgeType.INCLUDES:
                    if step.neighbour not in G:
                        G.add_node(step.neighbour, kind=step.neighbour_kind)
                    _add_step(G, step.neighbour, step._replace(neighbour=device))


def _add_consumption(store: GraphStore, G: Any, *, as_of: datetime | None) -> None:
    """Quantities on consumption edges, and every other input of the same work orders (so a
    lot's share of a work order's input is known), with the part each lot is of."""
    work_orders = sorted(
        {v for u, v, t in G.edges(data="type") if t is EdgeType.CONSUMED_BY}
        | {n for n, kind in G.nodes(data="kind") if kind is NodeKind.WORK_ORDER}
    )
    parts: dict[str, str | None] = {}
    for wo in work_orders:
        view = store.node(wo, as_of=as_of, edge_limit=500)
        if view.props.get("site"):
            G.nodes[wo]["site"] = view.props["site"]
        quantities: dict[str, float] = defaultdict(float)
        for edge in view.edges_in:
            if edge.type is EdgeType.CONSUMED_BY and not edge.retracted:
                quantity = edge.props.get("quantity")
                quantities[edge.source] += float(quantity) if isinstance(quantity, int | float) else 0.0
        for lot, quantity in quantities.items():
            if lot not in parts:
                try:
                    parts[lot] = store.node(lot, as_of=as_of, edge_limit=0).props.get("part")
                except NotFoundError:
                    parts[lot] = None
            if lot not in G:
                G.add_node(lot, kind=NodeKind.MATERIAL_LOT)
            G.nodes[lot]["part"] = parts[lot]
            if not G.has_edge(lot, wo):
                G.add_edge(lot, wo, type=EdgeType.CONSUMED_BY, at=None, until=None, steps=[])
            G.edges[lot, wo]["quantity"] = quantity if quantity > 0 else None


def _add_labels(store: GraphStore, G: Any, *, as_of: datetime | None) -> None:
    for node, kind in list(G.nodes(data="kind")):
        if kind is NodeKind.CONSIGNEE:
            props = store.node(node, as_of=as_of, edge_limit=0).props
            G.nodes[node]["name"] = props.get("name")
            G.nodes[node]["country"] = props.get("country")


def devices_reached(
    store: GraphStore,
    seeds: Iterable[Seed],
    *,
    ignore_time: bool,
    as_of: datetime | None = None,
    max_states: int | None = None,
) -> int:
    """Devices a trace from the seeds' nodes (with their windows) reaches."""
    by_window: dict[tuple[float, float] | None, list[str]] = defaultdict(list)
    for seed in seeds:
        by_window[None if ignore_time else seed.window].append(seed.node)
    reached: set[str] = set()
    for span, starts in by_window.items():
        window = None if span is None else TimeWindow(start=_dt(span[0]), end=_dt(span[1]))
        result = store.trace(
            TraceQuery(
                starts=tuple(dict.fromkeys(starts)),
                window=window,
                as_of=as_of,
                ignore_time=ignore_time,
                kinds=frozenset({NodeKind.DEVICE}),
            ),
            max_states=max_states,
        )
        reached.update(n.key for n in result.nodes)
    return len(reached)


def scope(
    store: GraphStore,
    seeds: Sequence[Seed],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    as_of: datetime | None = None,
    compare: bool = False,
    signals: Sequence[str] = (),
    window: TimeWindow | None = None,
    max_states: int | None = None,
) -> RecallScope:
    """The recall scope of ``seeds`` on ``store`` (see :func:`risk.recall.recall_scope`)."""
    if not seeds:
        raise InvalidInputError("a recall scope needs at least one start key or signal")
    if not 0.0 < threshold <= 1.0:
        raise InvalidInputError(f"threshold {threshold} is not a probability in (0, 1]")
    seeds = expand_carryover(store, seeds, as_of=as_of)
    G, reached, is_partial = build_graph(store, seeds, as_of=as_of, max_states=max_states)
    result = recall_scope(G, seeds, threshold=threshold, rule=step_constraint, signals=signals, window=window)
    update: dict[str, Any] = {"is_partial": is_partial}
    if compare:
        update["comparison"] = TraceComparison(
            time_respecting=len(reached),
            plain=devices_reached(store, seeds, ignore_time=True, as_of=as_of, max_states=max_states),
        )
    return result.model_copy(update=update)
