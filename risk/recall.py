"""Recall scope: which devices to recall (or quarantine), from whom, and how sure we are.

Given a propagation graph and the seeds that start it, :func:`recall_scope` propagates the
priors (:mod:`risk.propagation`), keeps the devices whose P(affected) reaches the threshold,
finds where each one is by walking its containment forward under the trace's time semantics
(a step rule such as ``graph.trace.step_constraint``, passed in so risk stays independent of
stores), and groups the result by product lot, consignee and country, with a sensitivity
table of how the scope grows as the threshold falls.

Containment and shipping carry risk without creating it: a case is as risky as what it
held while it moved, so a device's consignee is where *it* went, not where its case went
after it was unpacked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field

from risk.propagation import MATERIAL_EDGES, Risk, explaining_path, propagate, set_transmission
from risk.signals.base import Seed
from schema.kinds import TERMINAL_KINDS, EdgeType, NodeKind
from schema.model import TimeWindow, TraceDirection

#: Thresholds of the sensitivity table.
SENSITIVITY_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DEFAULT_THRESHOLD = 0.5

CONTAINMENT_EDGES = frozenset({EdgeType.PACKED_IN, EdgeType.SHIPPED_IN, EdgeType.DELIVERED_TO})

#: A half-open time interval ``[lo, hi)`` in epoch seconds, or None (unconstrained): the
#: constraint a trace carries through containers (``graph.trace.Interval``).
Interval = tuple[float, float] | None


class StepLike(Protocol):
    """One edge seen from the node a walk stands on (``graph.port.Step`` is one)."""

    @property
    def type(self) -> EdgeType: ...
    @property
    def at(self) -> float | None: ...
    @property
    def until(self) -> float | None: ...
    @property
    def neighbour(self) -> str: ...
    @property
    def neighbour_kind(self) -> NodeKind: ...


#: Whether a walk standing on a node of a kind, under a constraint, may take a step, and the
#: constraint it then carries: ``graph.trace.step_constraint``.
StepRule = Callable[[Any, Interval, NodeKind, TraceDirection], tuple[bool, Interval]]


def ignore_time(
    _step: Any, _constraint: Interval, _kind: NodeKind, _direction: TraceDirection
) -> tuple[bool, Interval]:
    """The step rule of plain reachability (``--ignore-time``)."""
    return True, None


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Placement(NamedTuple):
    """Where a device went, found by walking its containment forward in time."""

    shipped: bool
    consignee: str | None = None
    """The last consignee it was delivered to."""
    delivered_at: float | None = None
    shipment: str | None = None
    """The shipment that delivered it there."""
    consignees: tuple[str, ...] = ()
    """Every consignee it reached, in delivery order."""
    container: str | None = None
    """Outermost container that still holds it (on hand)."""


def placements(G: Any, devices: Iterable[str], *, rule: StepRule = ignore_time) -> dict[str, Placement]:
    """Where each of ``devices`` went: its consignees (shipped) or its container (on hand).

    Each device is walked forward along ``PACKED_IN``, ``SHIPPED_IN`` and ``DELIVERED_TO``
    edges, whose ``steps`` attribute lists the step objects of the edge; ``rule`` decides which
    steps the walk may take, so with ``graph.trace.step_constraint`` a device is placed where
    a time-respecting trace from it leads, never where its case went after it was unpacked.

    Examples
    --------
    >>> import networkx as nx
    >>> from collections import namedtuple
    >>> Step = namedtuple("Step", "type source target at until neighbour neighbour_kind")
    >>> G = nx.DiGraph()
    >>> def link(t, a, b, kind, at=None, until=None):
    ...     G.add_edge(a, b, steps=[Step(t, a, b, at, until, b, kind)])
    >>> G.add_node("dev", kind=NodeKind.DEVICE)
    >>> G.add_node("case", kind=NodeKind.CONTAINER)
    >>> G.add_node("sh", kind=NodeKind.SHIPMENT)
    >>> G.add_node("hospital", kind=NodeKind.CONSIGNEE)
    >>> link(EdgeType.PACKED_IN, "dev", "case", NodeKind.CONTAINER, at=0.0, until=10.0)
    >>> link(EdgeType.SHIPPED_IN, "case", "sh", NodeKind.SHIPMENT, at=5.0)
    >>> link(EdgeType.DELIVERED_TO, "sh", "hospital", NodeKind.CONSIGNEE, at=8.0)
    >>> placements(G, ["dev"])["dev"].consignee
    'hospital'
    """
    out: dict[str, Placement] = {}
    for device in devices:
        out[device] = _place(G, device, rule)
    return out


def _place(G: Any, device: str, rule: StepRule) -> Placement:
    reached: dict[str, tuple[float, str | None]] = {}
    seen: dict[str, list[Interval]] = {device: [None]}
    stack: list[tuple[str, Interval]] = [(device, None)]
    while stack:
        node, constraint = stack.pop()
        kind = G.nodes[node].get("kind")
        if node != device and kind in TERMINAL_KINDS:
            continue
        for succ in G.successors(node):
            for step in G.edges[node, succ].get("steps", ()):
                if step.type not in CONTAINMENT_EDGES:
                    continue
                allowed, carried = rule(step, constraint, kind, TraceDirection.FORWARD)
                if not allowed:
                    continue
                if step.type is EdgeType.DELIVERED_TO:
                    at = step.at if step.at is not None else float("-inf")
                    if succ not in reached or at > reached[succ][0]:
                        reached[succ] = (at, node)
                visited = seen.setdefault(succ, [])
                if any(_subsumes(v, carried) for v in visited):
                    continue
                visited.append(carried)
                stack.append((succ, carried))
    if reached:
        ordered = sorted(reached.items(), key=lambda item: (item[1][0], item[0]))
        last, (at, shipment) = ordered[-1]
        return Placement(
            shipped=True,
            consignee=last,
            delivered_at=None if at == float("-inf") else at,
            shipment=shipment,
            consignees=tuple(k for k, _ in ordered),
        )
    return Placement(shipped=False, container=_outermost_open(G, device))


def _outermost_open(G: Any, device: str) -> str | None:
    """Follow the packings that were never undone: the container that holds it now."""
    current, outer = device, None
    seen = {device}
    while True:
        nxt = None
        for succ in sorted(G.successors(current)):
            steps = G.edges[current, succ].get("steps", ())
            if succ not in seen and any(s.type is EdgeType.PACKED_IN and s.until is None for s in steps):
                nxt = succ
                break
        if nxt is None:
            return outer
        seen.add(nxt)
        current = outer = nxt


def _subsumes(seen: Interval, new: Interval) -> bool:
    if seen is None:
        return True
    if new is None:
        return False
    return seen[0] <= new[0] and new[1] <= seen[1]


# -- the scope ---------------------------------------------------------------------------------


class ScopedDevice(_Model):
    key: str
    probability: float = Field(description="P(affected) at lot level: what the scope decides on")
    unit_probability: float = Field(description="P(this unit holds the defective material), by shares consumed")
    path: tuple[str, ...] = Field(description="The most probable explaining path, from a seed down to the device")
    lot: str | None = None
    shipped: bool = False
    consignee: str | None = None
    country: str | None = None
    container: str | None = None


class Group(_Model):
    key: str
    name: str | None = None
    country: str | None = None
    count: int
    expected: float = Field(description="Expected number of truly affected units in the group (unit level)")
    devices: tuple[str, ...]


class SensitivityRow(_Model):
    threshold: float
    devices: int
    lots: int
    consignees: int
    expected: float


class StockItem(_Model):
    """A device in scope that has not shipped: to quarantine where it is."""

    device: str
    lot: str | None
    container: str | None
    site: str | None


class ShippedItem(_Model):
    """A device in scope that has shipped: to recall from its consignee."""

    device: str
    lot: str | None
    consignee: str
    name: str | None
    country: str | None
    shipment: str | None
    delivered_at: float | None


class TraceComparison(_Model):
    """How big plain traces from the same starts are, in devices, for comparison."""

    time_respecting: int = Field(description="Devices a time-respecting forward trace reaches")
    plain: int = Field(description="Devices plain reachability (--ignore-time) reaches")


class RecallScope(_Model):
    """The answer to "what do we recall": ``tracegraph recall --json`` and the API serialise it."""

    threshold: float
    starts: tuple[str, ...]
    signals: tuple[str, ...] = ()
    window: TimeWindow | None = None
    candidates: int = Field(description="Devices with any positive probability")
    expected_affected: float = Field(description="Expected truly affected units over all candidates")
    expected_in_scope: float = Field(description="Expected truly affected units among the devices in scope")
    devices: tuple[ScopedDevice, ...]
    by_lot: tuple[Group, ...]
    by_consignee: tuple[Group, ...]
    by_country: tuple[Group, ...]
    sensitivity: tuple[SensitivityRow, ...]
    on_hand: tuple[StockItem, ...]
    shipped: tuple[ShippedItem, ...]
    comparison: TraceComparison | None = None
    is_partial: bool = Field(False, description="A server budget cut a trace short: the scope may be incomplete")

    def to_json(self) -> dict[str, Any]:
        """The shape of ``tracegraph recall --json`` (and of the REST recall endpoint)."""
        return {
            "threshold": self.threshold,
            "starts": list(self.starts),
            "signals": list(self.signals),
            "candidates": self.candidates,
            "expected_affected": round(self.expected_affected, 3),
            "expected_in_scope": round(self.expected_in_scope, 3),
            "devices": [
                {
                    "key": d.key,
                    "probability": round(d.probability, 6),
                    "unit_probability": round(d.unit_probability, 6),
                    "path": list(d.path),
                    "lot": d.lot,
                    "shipped": d.shipped,
                    "consignee": d.consignee,
                }
                for d in self.devices
            ],
            "by_lot": [_group_json(g) for g in self.by_lot],
            "by_consignee": [_group_json(g) for g in self.by_consignee],
            "by_country": [_group_json(g) for g in self.by_country],
            "sensitivity": [s.model_dump() for s in self.sensitivity],
            "on_hand": [s.model_dump() for s in self.on_hand],
            "shipped": [s.model_dump() for s in self.shipped],
            "comparison": None if self.comparison is None else self.comparison.model_dump(),
            "is_partial": self.is_partial,
        }


def _group_json(group: Group) -> dict[str, Any]:
    return {
        "key": group.key,
        "name": group.name,
        "country": group.country,
        "count": group.count,
        "expected": round(group.expected, 3),
        "devices": list(group.devices),
    }


def seed_priors(seeds: Sequence[Seed]) -> tuple[dict[Hashable, float], dict[Hashable, tuple[float, float]]]:
    """Priors and anomaly windows from seeds; several seeds on one node combine as a noisy-OR.

    >>> from risk.signals.base import Seed
    >>> priors, windows = seed_priors([Seed(node="a", probability=0.5), Seed(node="a", probability=0.5)])
    >>> priors["a"]
    0.75
    """
    miss: dict[Hashable, float] = {}
    windows: dict[Hashable, tuple[float, float]] = {}
    for seed in seeds:
        miss[seed.node] = miss.get(seed.node, 1.0) * (1.0 - seed.probability)
        if seed.window is not None:
            lo, hi = seed.window
            if seed.node in windows:  # two windows on one machine: their hull
                lo, hi = min(lo, windows[seed.node][0]), max(hi, windows[seed.node][1])
            windows[seed.node] = (lo, hi)
    return {n: 1.0 - m for n, m in miss.items()}, windows


def recall_scope(
    G: Any,
    seeds: Sequence[Seed],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    rule: StepRule = ignore_time,
    signals: Sequence[str] = (),
    window: TimeWindow | None = None,
) -> RecallScope:
    """The recall scope of ``seeds`` over the propagation graph ``G``.

    Parameters
    ----------
    G : networkx.DiGraph
        Material and containment edges from the seeds downstream (see :mod:`risk.propagation`
        for the attributes). Containment edges carry their ``steps``; nodes may carry
        ``name``, ``country`` (consignees) and ``site`` (work orders).
    seeds : sequence of Seed
        Where the anomaly starts, with its prior and time window.
    threshold : float, optional
        Devices with P(affected) at or above it are in scope.
    rule : callable, optional
        The step rule of containment walks, ``graph.trace.step_constraint`` for the trace's
        time semantics (default: plain reachability).

    Examples
    --------
    >>> import networkx as nx
    >>> from risk.signals.base import Seed
    >>> G = nx.DiGraph()
    >>> G.add_node("lot:A", kind=NodeKind.MATERIAL_LOT, part="part:P")
    >>> G.add_node("lot:B", kind=NodeKind.MATERIAL_LOT, part="part:P")
    >>> G.add_node("wo:1", kind=NodeKind.WORK_ORDER)
    >>> G.add_node("plot:1", kind=NodeKind.PRODUCT_LOT)
    >>> G.add_edge("lot:A", "wo:1", type=EdgeType.CONSUMED_BY, quantity=25)
    >>> G.add_edge("lot:B", "wo:1", type=EdgeType.CONSUMED_BY, quantity=75)
    >>> G.add_edge("wo:1", "plot:1", type=EdgeType.PRODUCED)
    >>> for n in range(4):
    ...     G.add_node(f"dev:{n}", kind=NodeKind.DEVICE)
    ...     G.add_edge("plot:1", f"dev:{n}", type=EdgeType.INCLUDES)
    >>> scope = recall_scope(G, [Seed(node="lot:A", probability=0.9)])
    >>> len(scope.devices), scope.devices[0].probability, round(scope.devices[0].unit_probability, 3)
    (4, 0.9, 0.225)
    >>> round(scope.expected_affected, 3), scope.by_lot[0].key, len(scope.on_hand)
    (0.9, 'plot:1', 4)
    """
    priors, windows = seed_priors(seeds)
    set_transmission(G, windows=windows)
    risks = propagate(G, priors, weight="weight", edge_types=MATERIAL_EDGES)
    unit = propagate(G, priors, weight="unit_weight", edge_types=MATERIAL_EDGES)
    candidates = {n: r for n, r in risks.items() if G.nodes[n].get("kind") is NodeKind.DEVICE}
    floor = min(threshold, SENSITIVITY_THRESHOLDS[0])
    listed = sorted(str(n) for n, r in candidates.items() if r.probability >= floor - 1e-12)
    where = placements(G, listed, rule=rule)
    lots = {d: _lot_of(G, d) for d in listed}

    def unit_p(device: Hashable) -> float:
        found = unit.get(device)
        return found.probability if found is not None else 0.0

    in_scope = [d for d in listed if candidates[d].probability >= threshold - 1e-12]
    in_scope.sort(key=lambda d: (-candidates[d].probability, str(d)))
    scoped = tuple(_scoped(G, d, risks, unit_p(d), lots[d], where[d]) for d in in_scope)

    by_lot = _groups(G, ((lots[d] or "(no lot)", d) for d in in_scope), unit_p)
    by_consignee = _groups(G, ((where[d].consignee, d) for d in in_scope if where[d].consignee), unit_p)
    by_country = _groups(
        G,
        ((G.nodes[where[d].consignee].get("country") or "(unknown)", d) for d in in_scope if where[d].consignee),
        unit_p,
        named=False,
    )
    sensitivity = []
    for t in SENSITIVITY_THRESHOLDS:
        chosen = [d for d in listed if candidates[d].probability >= t - 1e-12]
        sensitivity.append(
            SensitivityRow(
                threshold=t,
                devices=len(chosen),
                lots=len({lots[d] for d in chosen if lots[d]}),
                consignees=len({where[d].consignee for d in chosen if where[d].consignee}),
                expected=round(sum(unit_p(d) for d in chosen), 6),
            )
        )
    on_hand = tuple(
        StockItem(device=str(d), lot=lots[d], container=where[d].container, site=_site_of(G, d))
        for d in in_scope
        if not where[d].shipped
    )
    shipped = tuple(
        ShippedItem(
            device=str(d),
            lot=lots[d],
            consignee=str(where[d].consignee),
            name=G.nodes[where[d].consignee].get("name"),
            country=G.nodes[where[d].consignee].get("country"),
            shipment=where[d].shipment,
            delivered_at=where[d].delivered_at,
        )
        for d in in_scope
        if where[d].shipped and where[d].consignee
    )
    return RecallScope(
        threshold=threshold,
        starts=tuple(dict.fromkeys(str(s.node) for s in seeds)),
        signals=tuple(signals),
        window=window,
        candidates=len(candidates),
        expected_affected=sum(unit_p(d) for d in candidates),
        expected_in_scope=sum(unit_p(d) for d in in_scope),
        devices=scoped,
        by_lot=by_lot,
        by_consignee=by_consignee,
        by_country=by_country,
        sensitivity=tuple(sensitivity),
        on_hand=on_hand,
        shipped=shipped,
    )


def _scoped(
    G: Any, device: Hashable, risks: Mapping[Hashable, Risk], unit: float, lot: str | None, where: Placement
) -> ScopedDevice:
    consignee = where.consignee
    return ScopedDevice(
        key=str(device),
        probability=risks[device].probability,
        unit_probability=unit,
        path=tuple(str(n) for n in explaining_path(risks, device)),
        lot=lot,
        shipped=where.shipped,
        consignee=consignee,
        country=G.nodes[consignee].get("country") if consignee else None,
        container=where.container,
    )


def _lot_of(G: Any, device: Hashable) -> str | None:
    for u in sorted(G.predecessors(device), key=str):
        if G.edges[u, device].get("type") is EdgeType.INCLUDES:
            return str(u)
    return None


def _site_of(G: Any, device: Hashable) -> str | None:
    for u in sorted(G.predecessors(device), key=str):
        site = G.nodes[u].get("site")
        if site:
            return str(site)
        for w in G.predecessors(u):  # lot → its work order
            if G.edges[w, u].get("type") is EdgeType.PRODUCED and G.nodes[w].get("site"):
                return str(G.nodes[w]["site"])
    return None


def _groups(
    G: Any, pairs: Iterable[tuple[Any, Hashable]], unit_p: Callable[[Hashable], float], *, named: bool = True
) -> tuple[Group, ...]:
    members: dict[str, list[str]] = defaultdict(list)
    for key, device in pairs:
        members[str(key)].append(str(device))
    groups = []
    for key, devices in members.items():
        attrs = G.nodes[key] if named and key in G else {}
        groups.append(
            Group(
                key=key,
                name=attrs.get("name"),
                country=attrs.get("country"),
                count=len(devices),
                expected=sum(unit_p(d) for d in devices),
                devices=tuple(sorted(devices)),
            )
        )
    groups.sort(key=lambda g: (-g.count, g.key))
    return tuple(groups)
