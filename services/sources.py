"""Finding the source as a use case: trace the cases and controls backward through the
store's own trace, then let :func:`risk.sources.rank_sources` score what they reach.

Cases are complained or failed units, or complaints (and nonconformances), which stand for
the units they concern (``CONCERNS``). Controls are units without a complaint: given, or by
default *the units built in the same period*:

    the period runs from the earliest to the latest production time of the cases' units,
    widened by ``margin_days`` on both sides; a unit's production time is the time of the
    ``PRODUCED`` (else ``INCLUDES``, else ``TRANSFORMED_INTO``) record that made it, else the
    start of its work order's first equipment use. Every device produced in the period that
    no complaint or nonconformance concerns, and that is not a case, is a control.

Every backward trace is the store's (``Services.trace``), so both stores give the same answer.
Units whose first upstream step leads to the same nodes (the devices of one work order and
lot) have the same backward trace; each such group is traced once, from those nodes, and
counted with its size. Listing devices goes through ``search`` by key (``/21/``: a serial;
``device:``), as ``Services.events`` lists events, until the port can list the nodes of a kind.
"""

from __future__ import annotations

import shlex
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import networkx as nx

from risk.sources import (
    CANDIDATE_KINDS,
    DEFAULT_PRIOR,
    PARSIMONY,
    Candidate,
    CaseUnit,
    Evidence,
    LikelySources,
    Mark,
    NextSteps,
    Statistic,
    rank_sources,
)
from schema.errors import InvalidInputError, NotFoundError
from schema.identifiers import canonical_key, key_kind
from schema.kinds import FLOW_EDGES, TERMINAL_KINDS, EdgeType, NodeKind
from schema.model import TraceDirection, TraceQuery, TraceResult, from_epoch, iso, to_epoch
from services.signals import SignalOptions, detect

if TYPE_CHECKING:
    from services.app import Services

__all__ = ["DEFAULT_MARGIN_DAYS", "DEFAULT_MATURITY_DAYS", "PARSIMONY", "LikelySources", "Statistic", "likely_sources"]

_CHUNK = 5_000
_ALL = 10_000_000
#: Kinds that stand for the units they concern.
_REPORTS = frozenset({NodeKind.COMPLAINT, NodeKind.NONCONFORMANCE})
#: First upstream steps that make a unit: their times are its production time, in this order.
_MADE_BY = (EdgeType.PRODUCED, EdgeType.INCLUDES, EdgeType.TRANSFORMED_INTO)
#: Relationships that attach evidence to a candidate.
_EVIDENCE_EDGES = frozenset({EdgeType.INSPECTED, EdgeType.AFFECTS, EdgeType.CONCERNS})
_FLAGGED = frozenset(
    {"fail", "failed", "marginal", "out_of_tolerance", "reject", "rejected", "nonconforming", "open", "critical"}
)
#: Automatic controls: the period the cases were built in, widened by this many days each side.
DEFAULT_MARGIN_DAYS = 30.0
#: Complaints about a unit arrive over the months after it ships: a unit counts fully once it
#: has been out this long, in proportion before (0: every unit counts fully).
DEFAULT_MATURITY_DAYS = 120.0
#: Least exposure of a unit that was shipped at all (a case complained, so it was exposed).
_LEAST_EXPOSURE = 0.01
PATHS_PER_CANDIDATE = 5
EVIDENCE_PER_CANDIDATE = 8


class _Unit:
    """What one ``expand`` backward says of a unit."""

    __slots__ = ("complained", "complained_at", "kind", "parent_kinds", "parents", "produced_at", "work_orders")

    def __init__(self, kind: NodeKind | None) -> None:
        self.kind = kind
        self.parents: set[str] = set()
        self.parent_kinds: dict[str, NodeKind] = {}
        self.produced_at: float | None = None
        self.complained = False
        self.complained_at: float | None = None
        self.work_orders: set[str] = set()


def _units(services: Services, keys: Sequence[str], as_of: datetime | None) -> dict[str, _Unit]:
    """Parents, production time and complaints of each unit, in one ``expand`` per chunk."""
    kinds = services.store.kinds(keys, as_of=as_of)
    out: dict[str, _Unit] = {}
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        hops = services.store.expand(chunk, TraceDirection.BACKWARD, as_of=as_of)
        for key in chunk:
            unit = out[key] = _Unit(kinds.get(key))
            made: dict[EdgeType, float] = {}
            for step in hops.get(key, ()):
                if step.type is EdgeType.CONCERNS and step.neighbour_kind in _REPORTS:
                    unit.complained = True
                    if step.at is not None:
                        unit.complained_at = max(step.at, unit.complained_at or step.at)
                elif step.type in FLOW_EDGES:
                    unit.parents.add(step.neighbour)
                    unit.parent_kinds[step.neighbour] = step.neighbour_kind
                    if step.neighbour_kind is NodeKind.WORK_ORDER:
                        unit.work_orders.add(step.neighbour)
                if step.type in _MADE_BY and step.at is not None:
                    made[step.type] = min(made.get(step.type, step.at), step.at)
            unit.produced_at = next((made[t] for t in _MADE_BY if t in made), None)
    # No timed record of the making: the start of the work order's first equipment use.
    untimed = sorted({wo for u in out.values() if u.produced_at is None for wo in u.work_orders})
    if untimed:
        starts: dict[str, float] = {}
        for i in range(0, len(untimed), _CHUNK):
            hops = services.store.expand(untimed[i : i + _CHUNK], TraceDirection.BACKWARD, as_of=as_of)
            for wo, steps in hops.items():
                times = [s.at for s in steps if s.type is EdgeType.USED_IN and s.at is not None]
                if times:
                    starts[wo] = min(times)
        for unit in out.values():
            if unit.produced_at is None:
                times = [starts[wo] for wo in unit.work_orders if wo in starts]
                unit.produced_at = min(times) if times else None
    return out


#: Containers nest (case, pallet, ...): how many levels a unit's way out of the plant is followed.
_NESTING = 8


def _shipped(services: Services, keys: Sequence[str], as_of: datetime | None) -> dict[str, float | None]:
    """The units among ``keys`` that were shipped, themselves or packed in a container (at any
    level of nesting) that was shipped, and when they first were."""
    found: dict[str, float | None] = {}
    holders: dict[str, set[str]] = {key: {key} for key in keys}
    seen: set[str] = set(keys)
    for _level in range(_NESTING):
        if not holders:
            break
        outer: dict[str, set[str]] = defaultdict(set)
        names = sorted(holders)
        for i in range(0, len(names), _CHUNK):
            hops = services.store.expand(names[i : i + _CHUNK], TraceDirection.FORWARD, as_of=as_of)
            for here, steps in hops.items():
                for step in steps:
                    if step.type in (EdgeType.SHIPPED_IN, EdgeType.DELIVERED_TO):
                        for unit in holders[here]:
                            before = found.get(unit)
                            found[unit] = step.at if before is None or step.at is None else min(before, step.at)
                    elif step.type is EdgeType.PACKED_IN and step.neighbour not in seen:
                        outer[step.neighbour] |= holders[here]
        seen.update(outer)
        holders = {box: rest for box, units in outer.items() if (rest := {u for u in units if u not in found})}
    return found


class _Exposure:
    """How much chance each unit had to draw a complaint by the horizon (``as_of``, else the
    latest complaint or shipment seen): its time since shipping over ``maturity_days``, at most 1;
    1 for a unit without a known shipping time."""

    def __init__(
        self, units: dict[str, _Unit], shipped: dict[str, float | None], as_of: datetime | None, maturity_days: float
    ) -> None:
        self.shipped = shipped
        self.maturity = timedelta(days=maturity_days).total_seconds()
        times = [u.complained_at for u in units.values() if u.complained_at is not None]
        times += [t for t in shipped.values() if t is not None]
        horizon = to_epoch(as_of) if as_of is not None else (max(times) if times else None)
        self.horizon = horizon

    def of(self, unit: str) -> float:
        at = self.shipped.get(unit)
        if at is None or self.horizon is None or self.maturity <= 0:
            return 1.0
        return min(1.0, max(_LEAST_EXPOSURE, (self.horizon - at) / self.maturity))


def _resolve(services: Services, keys: Sequence[str], as_of: datetime | None, role: str) -> list[tuple[str, str]]:
    """``(case id, unit)`` for each key: a unit is itself; a complaint, the units it concerns."""
    canon = list(dict.fromkeys(canonical_key(k) for k in keys))
    kinds = services.store.kinds(canon, as_of=as_of)
    missing = [k for k in canon if k not in kinds]
    if missing:
        raise NotFoundError(f"{role}: no node with key {', '.join(missing)}")
    reports = [k for k in canon if kinds[k] in _REPORTS]
    concerns = services.store.expand(reports, TraceDirection.FORWARD, as_of=as_of) if reports else {}
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key in canon:
        if kinds[key] not in _REPORTS:
            units = [key]
        else:
            units = sorted({s.neighbour for s in concerns.get(key, ()) if s.type is EdgeType.CONCERNS})
            if not units:
                raise InvalidInputError(f"{role}: {key} concerns no unit (no CONCERNS relationship)")
        for unit in units:
            if unit in seen:
                continue  # two complaints about one unit are one case
            seen.add(unit)
            out.append((key if len(units) == 1 else f"{key}@{unit}", unit))
    return out


def _devices(services: Services) -> list[str]:
    found: set[str] = set()
    for text in ("/21/", "device:"):
        found.update(h.key for h in services.store.search(text, kinds=[NodeKind.DEVICE], limit=_ALL))
    return sorted(found)


def _trace(services: Services, starts: Iterable[str], as_of: datetime | None) -> TraceResult:
    return services.trace(TraceQuery(starts=tuple(starts), direction=TraceDirection.BACKWARD, as_of=as_of))


def _traceable_as_group(unit: _Unit) -> bool:
    """Whether a trace from the unit's parents reaches what a trace from the unit reaches: yes
    unless containment time or a party's terminality could make them differ."""
    if unit.kind is NodeKind.CONTAINER or not unit.parents:
        return False
    return not any(k is NodeKind.CONTAINER or k in TERMINAL_KINDS for k in unit.parent_kinds.values())


def likely_sources(
    services: Services,
    cases: Sequence[str],
    *,
    controls: Sequence[str] | None = None,
    kinds: Collection[NodeKind] | None = None,
    margin_days: float = DEFAULT_MARGIN_DAYS,
    as_of: datetime | None = None,
    limit: int = 20,
    evidence: int = 10,
    statistic: Statistic = "bayes",
    prior: tuple[float, float] = DEFAULT_PRIOR,
    resamples: int = 200,
    use_signals: bool = True,
    parsimony: float = PARSIMONY,
    maturity_days: float = DEFAULT_MATURITY_DAYS,
) -> LikelySources:
    """See :meth:`services.app.Services.likely_sources`."""
    if not cases:
        raise InvalidInputError("sources: give at least one case (a complaint or a complained unit)")
    if maturity_days < 0:
        raise InvalidInputError("sources: the maturity of complaints cannot be negative")
    if margin_days < 0:
        raise InvalidInputError("sources: the period margin cannot be negative")
    wanted = CANDIDATE_KINDS if kinds is None else frozenset(kinds) & CANDIDATE_KINDS
    if not wanted:
        raise InvalidInputError(
            "sources: --kinds must name one of " + ", ".join(sorted(k.value for k in CANDIDATE_KINDS))
        )
    resolved = _resolve(services, cases, as_of, "case")
    case_units = [unit for _case, unit in resolved]
    is_case = set(case_units)
    info = _units(services, case_units, as_of)

    # Controls: given, or the units built in the same period.
    period: tuple[float, float] | None = None
    seen = dict(info)
    if controls is not None:
        control_units = [u for _c, u in _resolve(services, controls, as_of, "control") if u not in is_case]
        control_info = _units(services, control_units, as_of)
        shipped = _shipped(services, control_units, as_of)
    else:
        times = [info[u].produced_at for u in case_units if info[u].produced_at is not None]
        if not times:
            raise InvalidInputError(
                "sources: no case has a production time to define the period by; give the controls (--controls)"
            )
        margin = timedelta(days=margin_days).total_seconds()
        period = (min(t for t in times if t is not None) - margin, max(t for t in times if t is not None) + margin)
        everything = _units(services, [d for d in _devices(services) if d not in is_case], as_of)
        seen.update(everything)
        in_period = {
            key: unit
            for key, unit in everything.items()
            if not unit.complained and unit.produced_at is not None and period[0] <= unit.produced_at <= period[1]
        }
        # A unit still in stock cannot draw a complaint: compare with units that left the plant.
        # (A store that records no shipment in the period cannot tell: every unit counts.)
        shipped = _shipped(services, sorted(in_period), as_of)
        control_info = {key: unit for key, unit in in_period.items() if key in shipped or not shipped}
        control_units = sorted(control_info)
    seen.update(control_info)
    shipped.update(_shipped(services, case_units, as_of))
    exposed = _Exposure(seen, shipped, as_of, maturity_days)

    is_partial = False
    G = nx.DiGraph()

    def absorb(result: TraceResult) -> set[str]:
        nonlocal is_partial
        is_partial = is_partial or result.is_partial
        for node in result.nodes:
            G.add_node(node.key, kind=node.kind)
        for edge in result.edges:
            if not G.has_edge(edge.source, edge.target):
                G.add_edge(edge.source, edge.target, type=edge.type)
        return {n.key for n in result.nodes}

    case_traces: dict[str, TraceResult] = {}
    case_upstream: dict[str, set[str]] = {}
    exposure: dict[str, float] = {}
    for case, unit in resolved:
        result = case_traces.get(unit) or _trace(services, [unit], as_of)
        case_traces[unit] = result
        case_upstream[case] = absorb(result)
        exposure[case] = exposed.of(unit)

    # Controls with the same parents share one trace, from the parents; others trace alone.
    groups: dict[tuple[bool, tuple[str, ...]], list[str]] = defaultdict(list)
    for key in control_units:
        control = control_info[key]
        if _traceable_as_group(control):
            groups[(True, tuple(sorted(control.parents)))].append(key)
        else:
            groups[(False, (key,))].append(key)
    control_upstream: dict[str, set[str]] = {}
    weights: dict[str, int] = {}
    for (by_parents, starts), members in groups.items():
        name = members[0]
        if by_parents:
            kinds_of = control_info[name].parent_kinds
            for parent in starts:
                G.add_node(parent, kind=kinds_of[parent])
            control_upstream[name] = absorb(_trace(services, starts, as_of)) | set(starts)
        else:
            control_upstream[name] = absorb(_trace(services, starts, as_of))
        weights[name] = len(members)
        exposure[name] = sum(exposed.of(m) for m in members)

    _add_machine_history(services, G, as_of)
    ranking = rank_sources(
        G,
        case_upstream,
        control_upstream,
        weights=weights,
        exposure=exposure if maturity_days > 0 else None,
        kinds=wanted,
        statistic=statistic,
        prior=prior,
        resamples=resamples,
        signals=_marks(services, as_of) if use_signals else (),
        parsimony=parsimony,
    )

    # The top candidates, and the leader of every group, in full.
    shown: list[Candidate] = list(ranking.candidates[:limit])
    leaders = {c.group for c in shown}
    for c in ranking.candidates[limit:]:
        if c.group not in leaders:
            leaders.add(c.group)
            shown.append(c)
    unit_of = dict(resolved)
    detailed = []
    for position, candidate in enumerate(shown):
        update: dict[str, Any] = {
            "paths": _paths(candidate, case_traces, unit_of),
            "next": _next_steps(candidate, as_of),
        }
        if position < evidence:
            update["evidence"] = _evidence(services, candidate, as_of)
        detailed.append(candidate.model_copy(update=update))

    by_group: dict[str, list[str]] = {}
    for c in detailed:
        by_group.setdefault(c.group, []).append(c.key)
    return LikelySources(
        cases=tuple(
            CaseUnit(key=case, unit=unit, produced_at=from_epoch(info[unit].produced_at)) for case, unit in resolved
        ),
        controls_mode="explicit" if controls is not None else "auto",
        controls=ranking.controls,
        period_start=None if period is None else from_epoch(period[0]),
        period_end=None if period is None else from_epoch(period[1]),
        statistic=ranking.statistic,
        tested=ranking.tested,
        candidates=tuple(detailed),
        total=len(ranking.candidates),
        by_group=by_group,
        notes=ranking.notes,
        is_partial=is_partial,
        as_of=as_of,
    )


#: Detectors whose signals weigh candidates a priori: every one but the complaint detectors,
#: which read the very complaints being explained.
_PRIOR_DETECTORS = frozenset({"inspection", "process", "calibration", "supplier", "changes"})


def _marks(services: Services, as_of: datetime | None) -> list[Mark]:
    """The anomaly signals of the records other than complaints, as prior weight."""
    found = detect(services.store, as_of=as_of, options=SignalOptions(detectors=_PRIOR_DETECTORS))
    return [
        Mark(
            node=signal.node,
            probability=signal.probability,
            start=None if signal.window is None else to_epoch(signal.window.start),
            end=None if signal.window is None else to_epoch(signal.window.end),
            label=f"{signal.id} {signal.rule}: {signal.summary}",
        )
        for signal in found
    ]


def _add_machine_history(services: Services, G: Any, as_of: datetime | None) -> None:
    """Every run of every machine reached (``USED_IN`` with its interval), and when each change
    record reached took effect (``AFFECTS`` with its time)."""
    machines = sorted(n for n, k in G.nodes(data="kind") if k is NodeKind.EQUIPMENT)
    changes = sorted(n for n, k in G.nodes(data="kind") if k is NodeKind.CHANGE_RECORD)
    keys = machines + changes
    for i in range(0, len(keys), _CHUNK):
        for here, steps in services.store.expand(keys[i : i + _CHUNK], TraceDirection.FORWARD, as_of=as_of).items():
            for step in steps:
                if step.type is EdgeType.USED_IN:
                    if step.neighbour not in G:
                        G.add_node(step.neighbour, kind=step.neighbour_kind)
                    G.add_edge(here, step.neighbour, type=EdgeType.USED_IN, at=step.at, until=step.until)
                elif step.type is EdgeType.AFFECTS:
                    at = step.at if step.at is not None else _change_time(services, here, as_of)
                    if step.neighbour not in G:
                        G.add_node(step.neighbour, kind=step.neighbour_kind)
                    G.add_edge(here, step.neighbour, type=EdgeType.AFFECTS, at=at)


def _change_time(services: Services, key: str, as_of: datetime | None) -> float | None:
    props = services.node(key, as_of=as_of, edge_limit=0).props
    for name in ("effective_at", "at", "implemented_at", "approved_at", "created_at"):
        value = props.get(name)
        if isinstance(value, str) and value:
            try:
                return to_epoch(datetime.fromisoformat(value.replace("Z", "+00:00")))
            except ValueError:
                continue
    return None


def _paths(
    candidate: Candidate, traces: dict[str, TraceResult], unit_of: dict[str, str]
) -> tuple[tuple[str, ...], ...]:
    """From each explained case (its complaint first, then the unit) up to the candidate."""
    out = []
    runs = set(candidate.runs)
    for case in candidate.cases[:PATHS_PER_CANDIDATE]:
        unit = unit_of.get(case, case.rsplit("@", 1)[-1])
        trace = traces.get(unit)
        if trace is None:
            continue
        paths = {n.key: n.path for n in trace.nodes}
        if candidate.kind is NodeKind.EQUIPMENT and runs:
            via = next((wo for wo in candidate.runs if wo in paths), None)
            path = (*paths[via], candidate.key) if via is not None else paths.get(candidate.key)
        else:
            path = paths.get(candidate.key)
        if path is None:  # an equivalent node was the one reached
            path = next((paths[k] for k in candidate.equivalent if k in paths), None)
        if path is None:
            continue
        out.append(((case,) if case != unit else ()) + tuple(path))
    return tuple(out)


def _command_time(value: datetime | None) -> str | None:
    return iso(value)


def _next_steps(candidate: Candidate, as_of: datetime | None) -> NextSteps:
    """The forward impact and the recall scope of the candidate, as commands and as calls."""
    target = candidate.key
    start, end = candidate.window_start, candidate.window_end
    if candidate.kind is NodeKind.CHANGE_RECORD and candidate.target is not None:
        target, end = candidate.target, None
    windowed = candidate.kind in (NodeKind.EQUIPMENT, NodeKind.CHANGE_RECORD) and start is not None
    key = shlex.quote(target)
    trace_cli = f"tracegraph trace forward {key}"
    recall_cli = f"tracegraph recall --from {key}"
    window_call = ""
    if windowed:
        s, e = _command_time(start), _command_time(end)
        trace_cli += f" --from {s}" + (f" --to {e}" if e else "")
        recall_cli += f" --window-from {s}" + (f" --window-to {e}" if e else "")
        window_call = f"window=TimeWindow(start=datetime.fromisoformat({s!r})" + (
            f", end=datetime.fromisoformat({e!r}))" if e else ")"
        )
    as_of_text = _command_time(as_of)
    if as_of_text:
        trace_cli += f" --as-of {as_of_text}"
        recall_cli += f" --as-of {as_of_text}"
    as_of_call = f"as_of=datetime.fromisoformat({as_of_text!r})" if as_of_text else ""
    trace_args = ", ".join(x for x in (f"starts=({target!r},)", window_call, as_of_call) if x)
    recall_args = ", ".join(x for x in (f"starts=[{target!r}]", window_call, as_of_call) if x)
    params: list[tuple[str, str]] = [("start", target)]
    if windowed:
        params += [("from", _command_time(start) or "")] + ([("to", e_text)] if (e_text := _command_time(end)) else [])
    if as_of_text:
        params.append(("as_of", as_of_text))
    query = urlencode(params)
    return NextSteps(
        trace_url=f"/api/v1/trace/forward?{query}",
        recall_url=f"/api/v1/recall?{query}",
        trace=trace_cli,
        recall=recall_cli,
        trace_call=f"services.trace(TraceQuery({trace_args}))",
        recall_call=f"services.recall_scope({recall_args})",
    )


def _evidence(services: Services, candidate: Candidate, as_of: datetime | None) -> tuple[Evidence, ...]:
    """Inspections, calibrations, change records, complaints and process runs on the candidate
    (for a window: its process runs within 30 days of it), problems first, then records before
    runs, each nearest the window first."""
    key = candidate.target if candidate.kind is NodeKind.CHANGE_RECORD and candidate.target else candidate.key
    try:
        view = services.node(key, as_of=as_of)
    except NotFoundError:
        return ()
    lo = to_epoch(candidate.window_start) if candidate.window_start else None
    hi = to_epoch(candidate.window_end) if candidate.window_end else None
    slack = timedelta(days=30).total_seconds()

    def distance(at: float | None) -> float:
        """How far from the window (0 inside it); from now backwards without one."""
        if at is None:
            return float("inf")
        if lo is None:
            return -at
        return max(0.0, lo - at, at - (hi if hi is not None else at))

    items: list[tuple[float | None, str, EdgeType]] = []
    for edge in view.edges_in:
        if edge.type not in _EVIDENCE_EDGES or edge.retracted:
            continue
        at = to_epoch(edge.at)
        # Process runs only near the window (one per run); calibrations and other records all.
        if key_kind(edge.source) is NodeKind.PROCESS_RUN and lo is not None and distance(at) > slack:
            continue
        items.append((at, edge.source, edge.type))
    if candidate.kind is NodeKind.CHANGE_RECORD:
        items.append((lo, candidate.key, EdgeType.AFFECTS))
    # Records before process runs (a machine has one per run), each nearest the window first.
    items.sort(key=lambda x: (key_kind(x[1]) is NodeKind.PROCESS_RUN, distance(x[0]), x[1]))
    found = []
    for at, source, relation in items[: 4 * EVIDENCE_PER_CANDIDATE]:
        try:
            record = services.node(source, as_of=as_of, edge_limit=0)
        except NotFoundError:
            continue
        summary, flagged = _summary(record.kind, record.props)
        found.append(
            Evidence(
                key=source, kind=record.kind, relation=relation, at=from_epoch(at), summary=summary, flagged=flagged
            )
        )
    found.sort(key=lambda e: (not e.flagged, e.kind is NodeKind.PROCESS_RUN, distance(to_epoch(e.at)), e.key))
    return tuple(found[:EVIDENCE_PER_CANDIDATE])


def _summary(kind: NodeKind, props: dict[str, Any]) -> tuple[str, bool]:
    """One line about a record, and whether it reads as a problem."""
    if kind is NodeKind.PROCESS_RUN:
        samples = props.get("samples")
        raw_limits = props.get("limits")
        limits: dict[str, Any] = raw_limits if isinstance(raw_limits, dict) else {}
        values = [v for v in samples.values() if isinstance(v, int | float)] if isinstance(samples, dict) else []
        if not values:
            return f"{props.get('parameter', 'process run')}", False
        mean = sum(values) / len(values)
        target, lsl, usl = limits.get("target"), limits.get("lsl"), limits.get("usl")
        text = f"{props.get('parameter', 'parameter')} mean {mean:.4g}"
        flagged = False
        if isinstance(target, int | float) and isinstance(lsl, int | float) and isinstance(usl, int | float):
            sigma = (usl - lsl) / 12.0  # limits at +-6 sigma
            text += f" (target {target:g}, limits {lsl:g} to {usl:g})"
            flagged = (sigma > 0 and abs(mean - target) > sigma) or any(v < lsl or v > usl for v in values)
        return text, flagged
    fields = ("type", "result", "status", "failure_mode", "title", "description")
    words = [str(props[k]) for k in fields if props.get(k)]
    state = str(props.get("result") or props.get("status") or "").lower()
    return " · ".join(dict.fromkeys(words)) or kind.value, state in _FLAGGED
