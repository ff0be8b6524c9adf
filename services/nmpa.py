"""NMPA recall duties as use cases: the recall dossier behind the Chinese recall documents, the
recall's clocks as tasks, distribution records and their retention.

Everything about the devices comes from the graph (the recall scope, lots, devices, shipments,
consignees). What the graph cannot know — the registrant, registration numbers, models, the
reason and measures of a recall, consignees' licence numbers — comes from an NMPA facts file
(YAML, its own ``nmpa:`` section, see docs/guides/nmpa.md); a fact it does not give either is
listed as missing in every document, never invented.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graph.port import GraphStore
from i18n import N_
from risk.nmpa import Clock, RecallClass, adverse_event_clocks, recall_clocks, retention
from risk.recall import RecallScope
from risk.signals.base import Severity, Signal, signal_id
from schema.alerts import AlertGrade, AlertState, TaskState
from schema.errors import InvalidInputError, NotFoundError
from schema.identifiers import encode_key_value
from schema.kinds import EdgeType, NodeKind
from schema.model import (
    EdgeFact,
    FactBatch,
    NodeFact,
    Provenance,
    TimeWindow,
    TraceDirection,
    TraceQuery,
    from_epoch,
    iso,
)
from services.alerts import AlertRun

__all__ = [
    "AdverseEvents",
    "Clock",
    "ConsigneeLine",
    "DistributionRecord",
    "LotLine",
    "MissingFact",
    "NmpaFacts",
    "RecallClass",
    "RecallDossier",
    "RetentionCheck",
    "adverse_event_signals",
    "distribution_records",
    "dossier",
    "load_facts",
    "recall_recorded",
    "retention_check",
    "track_recall",
]

#: The environment variable naming the facts file when none is given.
FACTS_ENV = "TRACEGRAPH_NMPA_FACTS"
#: Countries counted as "sold in China" (the NMPA's jurisdiction).
CHINA = frozenset({"CN", "CHN"})


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CompanyFacts(_Model):
    name: str | None = Field(None, description="Registrant (注册人/备案人) name")
    address: str | None = None
    contact: str | None = Field(None, description="Person responsible for the recall")
    phone: str | None = None
    licence: str | None = Field(None, description="Manufacturing licence or filing number (生产许可证编号)")
    regulator: str | None = Field(None, description="The provincial regulator the reports go to")


class ProductFacts(_Model):
    name: str | None = Field(None, description="Product name as registered (产品名称)")
    registration_number: str | None = Field(None, description="注册证编号/备案编号")
    model: str | None = Field(None, description="Model (型号)")
    specification: str | None = Field(None, description="Specification (规格)")
    classification: str | None = Field(None, description="Class I, II or III")
    implant: bool = Field(False, description="An implant: its distribution records are kept permanently")


class ConsigneeFacts(_Model):
    licence: str | None = Field(None, description="Distribution licence or filing number (经营许可证/备案编号)")
    region: str | None = Field(None, description="Province or region (省份/地区)")


class ProgressFacts(_Model):
    notified: tuple[str, ...] = Field((), description="Consignees notified so far (keys)")
    recalled: dict[str, int] = Field(default_factory=dict, description="Units recalled so far, by consignee key")


class RecallFacts(_Model):
    reason: str | None = Field(None, description="Why the devices are recalled (召回原因)")
    measures: str | None = Field(None, description="What is done (召回措施)")
    handling: str | None = Field(None, description="What happens to recalled devices (处理方式)")
    evaluation: str | None = Field(None, description="The health-hazard evaluation (健康危害评估)")
    decided_at: datetime | None = Field(None, description="When the recall was decided")
    progress: ProgressFacts = Field(default_factory=ProgressFacts)


class NmpaFacts(_Model):
    """The ``nmpa:`` section of a facts file."""

    company: CompanyFacts = Field(default_factory=CompanyFacts)
    products: dict[str, ProductFacts] = Field(default_factory=dict, description="By part key (part:FG-IVS) or GTIN-14")
    consignees: dict[str, ConsigneeFacts] = Field(default_factory=dict, description="By consignee key")
    recall: RecallFacts = Field(default_factory=RecallFacts)
    holidays: tuple[date, ...] = Field((), description="Public holidays: not working days")
    workdays: tuple[date, ...] = Field((), description="Weekend days that are working days (调休)")


def load_facts(path: Path | None) -> NmpaFacts:
    """Read the ``nmpa:`` section of a YAML facts file; no file means no facts (all missing)."""
    if path is None:
        return NmpaFacts()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InvalidInputError(f"cannot read the NMPA facts file {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{path}: not YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("nmpa", {}), dict):
        raise InvalidInputError(f"{path}: expected a mapping with an 'nmpa:' section")
    try:
        return NmpaFacts.model_validate(data.get("nmpa") or {})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"{path}: nmpa: {problems}") from exc


# -- the dossier ------------------------------------------------------------------------------


class LotLine(_Model):
    """One product lot in the recall."""

    lot: str = Field(description="The lot's key")
    lot_number: str | None
    udi_di: str | None = Field(description="The device identifier (GTIN or MA DI) of the lot's label")
    part: str | None
    product: str | None
    registration_number: str | None
    model: str | None
    specification: str | None
    manufactured: str | None
    expiry: str | None
    made: int | None = Field(description="Units the lot holds (as produced)")
    in_scope: int = Field(description="Units of the lot in the recall scope")
    shipped: int
    sold_in_china: int
    on_hand: int
    serials: tuple[str, ...] = Field(description="UDI (key) of every unit in scope")


class ConsigneeLine(_Model):
    consignee: str
    name: str | None
    country: str | None
    region: str | None
    address: str | None
    licence: str | None
    units: int = Field(description="Units in scope it holds (its last delivery); 0 when it passed them on")
    lots: tuple[str, ...]
    notified: bool
    recalled: int
    passed_on: bool = Field(False, description="A distributor the units went through: notified, holds none now")


class MissingFact(_Model):
    """A fact a document needs that neither the graph nor the facts file gives."""

    fact: str = Field(description="What is missing (English, marked for the catalogue)")
    subject: str | None = Field(None, description="Whose: a part, lot or consignee key")

    def __str__(self) -> str:
        return self.fact + (f": {self.subject}" if self.subject else "")


class RecallDossier(_Model):
    """What the NMPA recall documents say, from a recall scope, the graph and the facts file."""

    recall_class: RecallClass
    decided_at: datetime
    starts: tuple[str, ...]
    threshold: float
    company: CompanyFacts
    recall: RecallFacts
    lots: tuple[LotLine, ...]
    consignees: tuple[ConsigneeLine, ...]
    regions: tuple[str, ...] = Field(description="Countries and regions the devices reached")
    made: int
    in_scope: int
    shipped: int
    sold_in_china: int
    on_hand: int
    recalled: int
    clocks: tuple[Clock, ...]
    paths: tuple[tuple[str, ...], ...] = Field(
        (), description="How the defect reaches the lots: distinct explaining paths, from a start to a lot"
    )
    missing: tuple[MissingFact, ...] = Field(
        description="Facts the documents need that neither graph nor facts file gives"
    )
    is_partial: bool = False

    def to_json(self) -> dict[str, Any]:
        data = self.model_dump(mode="json")
        data["recall_class"] = self.recall_class.value
        data["clocks"] = [
            {"kind": c.kind.value, "title": c.title, "due": iso(c.due), "rule": c.rule} for c in self.clocks
        ]
        return data


def _props(store: GraphStore, key: str, cache: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if key not in cache:
        try:
            cache[key] = dict(store.node(key, edge_limit=0).props)
        except NotFoundError:
            cache[key] = {}
    return cache[key]


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _product(facts: NmpaFacts, part: str | None, gtin: str | None, di: str | None = None) -> ProductFacts:
    """A product's facts, found by part key, GTIN or MA device identifier (as the file names it)."""
    for key in (part, gtin, gtin.zfill(14) if gtin else None, di):
        if key and key in facts.products:
            return facts.products[key]
    return ProductFacts()


def dossier(
    store: GraphStore,
    scope: RecallScope,
    facts: NmpaFacts,
    recall_class: RecallClass,
    *,
    decided_at: datetime | None = None,
) -> RecallDossier:
    """The recall dossier of ``scope``: its lots with their devices, its consignees, the
    quantities, the clocks of ``recall_class``, and the facts still missing."""
    decided = decided_at or facts.recall.decided_at or datetime.now(UTC)
    cache: dict[str, dict[str, Any]] = {}
    shipped_by_device = {s.device: s for s in scope.shipped}
    by_lot: dict[str, list[str]] = defaultdict(list)
    for device in scope.devices:
        by_lot[device.lot or ""].append(device.key)
    missing: list[MissingFact] = []
    lots: list[LotLine] = []
    totals = {"made": 0, "shipped": 0, "china": 0, "on_hand": 0}
    for lot_key in sorted(by_lot):
        devices = sorted(by_lot[lot_key])
        lot = _props(store, lot_key, cache) if lot_key else {}
        first = _props(store, devices[0], cache)
        part = _text(lot.get("part"))
        gtin = _text(lot.get("gtin") or first.get("gtin"))
        di = _text(lot.get("di") or first.get("di"))  # an MA-coded device's DI
        part_props = _props(store, part, cache) if part else {}
        product = _product(facts, part, gtin, di)
        shipped = [shipped_by_device[d] for d in devices if d in shipped_by_device]
        china = sum(1 for s in shipped if (s.country or "").upper() in CHINA)
        made = lot.get("quantity")
        line = LotLine(
            lot=lot_key or "-",
            lot_number=_text(lot.get("lot") or first.get("lot")),
            udi_di=gtin or di,
            part=part,
            product=product.name or _text(part_props.get("name")),
            registration_number=product.registration_number,
            model=product.model,
            specification=product.specification,
            manufactured=_text(lot.get("manufactured") or first.get("manufactured")),
            expiry=_text(lot.get("expiry") or first.get("expiry")),
            made=int(made) if isinstance(made, int | float) else None,
            in_scope=len(devices),
            shipped=len(shipped),
            sold_in_china=china,
            on_hand=len(devices) - len(shipped),
            serials=tuple(devices),
        )
        lots.append(line)
        totals["made"] += line.made or 0
        totals["shipped"] += line.shipped
        totals["china"] += china
        totals["on_hand"] += line.on_hand
        name = line.part or line.lot
        if product.registration_number is None:
            missing.append(MissingFact(fact=N_("registration number"), subject=name))
        if product.model is None:
            missing.append(MissingFact(fact=N_("model"), subject=name))
        if line.made is None:
            missing.append(MissingFact(fact=N_("quantity made"), subject=line.lot))
    consignees: list[ConsigneeLine] = []
    progress = facts.recall.progress
    for group in scope.by_consignee:
        props = _props(store, group.key, cache)
        extra = facts.consignees.get(group.key, ConsigneeFacts())
        if extra.licence is None:
            missing.append(MissingFact(fact=N_("consignee licence number"), subject=group.key))
        lot_keys = sorted({shipped_by_device[d].lot or "-" for d in group.devices if d in shipped_by_device})
        consignees.append(
            ConsigneeLine(
                consignee=group.key,
                name=group.name or _text(props.get("name")),
                country=group.country or _text(props.get("country")),
                region=extra.region,
                address=_text(props.get("address")),
                licence=extra.licence,
                units=group.count,
                lots=tuple(lot_keys),
                notified=group.key in progress.notified,
                recalled=progress.recalled.get(group.key, 0),
            )
        )
    for label, value in (
        (N_("registrant name"), facts.company.name),
        (N_("registrant address"), facts.company.address),
        (N_("recall contact"), facts.company.contact),
        (N_("contact phone"), facts.company.phone),
        (N_("recall reason"), facts.recall.reason),
        (N_("recall measures"), facts.recall.measures),
        (N_("handling of recalled devices"), facts.recall.handling),
        (N_("health-hazard evaluation"), facts.recall.evaluation),
    ):
        if value is None:
            missing.append(MissingFact(fact=label))
    consignees += _passed_on(store, scope, facts, {c.consignee for c in consignees}, cache, missing)
    regions = sorted({c.region or c.country or "" for c in consignees} - {""})
    clocks = recall_clocks(recall_class, decided, holidays=facts.holidays, workdays=facts.workdays)
    return RecallDossier(
        recall_class=recall_class,
        decided_at=decided,
        starts=scope.starts,
        threshold=scope.threshold,
        company=facts.company,
        recall=facts.recall,
        lots=tuple(lots),
        consignees=tuple(consignees),
        regions=tuple(regions),
        made=totals["made"],
        in_scope=len(scope.devices),
        shipped=totals["shipped"],
        sold_in_china=totals["china"],
        on_hand=totals["on_hand"],
        recalled=sum(c.recalled for c in consignees),
        clocks=tuple(clocks),
        paths=tuple(dict.fromkeys(tuple(d.path[:-1]) for d in scope.devices if len(d.path) > 1)),
        missing=tuple(dict.fromkeys(missing)),
        is_partial=scope.is_partial,
    )


def _passed_on(
    store: GraphStore,
    scope: RecallScope,
    facts: NmpaFacts,
    listed: set[str],
    cache: dict[str, dict[str, Any]],
    missing: list[MissingFact],
) -> list[ConsigneeLine]:
    """Consignees the shipped units reached before their last delivery (distributors that
    repacked them): they are notified too, though they hold none of them now."""
    shipped = tuple(sorted({s.device for s in scope.shipped}))
    if not shipped:
        return []
    reached = store.trace(
        TraceQuery(starts=shipped, direction=TraceDirection.FORWARD, kinds=frozenset({NodeKind.CONSIGNEE}))
    )
    lines = []
    for node in sorted(reached.nodes, key=lambda n: n.key):
        if node.kind is not NodeKind.CONSIGNEE or node.key in listed:
            continue
        props = _props(store, node.key, cache)
        extra = facts.consignees.get(node.key, ConsigneeFacts())
        if extra.licence is None:
            missing.append(MissingFact(fact=N_("consignee licence number"), subject=node.key))
        lines.append(
            ConsigneeLine(
                consignee=node.key,
                name=_text(props.get("name")),
                country=_text(props.get("country")),
                region=extra.region,
                address=_text(props.get("address")),
                licence=extra.licence,
                units=0,
                lots=(),
                notified=node.key in facts.recall.progress.notified,
                recalled=facts.recall.progress.recalled.get(node.key, 0),
                passed_on=True,
            )
        )
    return lines


# -- the recall's clocks as tasks ------------------------------------------------------------------

RECALL_RULE = "nmpa-recall"


def recall_alert_key(start: str) -> str:
    return f"alert:{RECALL_RULE}@{start}"


def recall_task_key(clock: Clock, start: str) -> str:
    return f"task:{RECALL_RULE}-{clock.kind.value}@{start}"


def recall_recorded(store: GraphStore, start: str) -> bool:
    """Whether a recall of ``start`` is already recorded (its alert exists)."""
    try:
        store.node(recall_alert_key(start), edge_limit=0)
    except NotFoundError:
        return False
    return True


def track_recall(
    store: GraphStore,
    start: str,
    recall_class: RecallClass,
    clocks: Sequence[Clock],
    *,
    actor: str,
    owner: str | None = None,
    now: datetime | None = None,
) -> tuple[str, list[str]]:
    """Record the recall as an alert whose tasks are its clocks, each due at its deadline; the
    tasks then move like any other (``tracegraph tasks move``). Recording the same recall again
    changes nothing. Returns the alert key and the task keys."""
    now = now or datetime.now(UTC)
    alert = recall_alert_key(start)
    task_keys = [recall_task_key(c, start) for c in clocks]
    if recall_recorded(store, start):
        return alert, task_keys
    provenance = Provenance(source_system="tracegraph", source=f"alerts:{actor}")
    stamp = {"changed_by": actor, "changed_at": iso(now)}
    title = f"NMPA {recall_class.chinese} (class {recall_class.value}) of {start}"
    nodes = [
        NodeFact(
            key=alert,
            kind=NodeKind.ALERT,
            props={
                "rule": RECALL_RULE,
                "node": start,
                "grade": AlertGrade.RECALL_CANDIDATE.value,
                "title": title,
                "summary": f"recall decided {iso(now)}; {len(clocks)} regulatory clocks",
                "owner_role": "recall_manager",
                "owner": owner,
                "due_at": iso(min(c.due for c in clocks)) if clocks else None,
                "signal": "",
                "signal_rule": f"nmpa.recall.class{recall_class.value}",
                "probability": 1.0,
                "evidence": [],
                "state": AlertState.OPEN.value,
                "opened_at": iso(now),
                "tasks": task_keys,
                **stamp,
                "reason": f"NMPA recall class {recall_class.value} recorded",
            },
            provenance=provenance,
        )
    ]
    edges = [EdgeFact(type=EdgeType.CONCERNS, source=alert, target=start, at=now, provenance=provenance)]
    for clock, key in zip(clocks, task_keys, strict=True):
        nodes.append(
            NodeFact(
                key=key,
                kind=NodeKind.TASK,
                props={
                    "alert": alert,
                    "concerns": start,
                    "title": clock.title,
                    "state": TaskState.OPEN.value,
                    "role": "recall_manager",
                    "assignee": owner,
                    "due_at": iso(clock.due),
                    "fields": {"clock": clock.kind.value, "rule": clock.rule},
                    "records": [],
                    **stamp,
                    "reason": f"opened with {alert}",
                },
                provenance=provenance,
            )
        )
        edges.append(EdgeFact(type=EdgeType.CONCERNS, source=key, target=alert, at=now, provenance=provenance))
    store.apply(FactBatch(source=f"nmpa: recall of {start} by {actor}", nodes=tuple(nodes), edges=tuple(edges)))
    return alert, task_keys


# -- distribution records and retention ------------------------------------------------------------


class DistributionRecord(_Model):
    """One line of a sales (distribution) record: one lot in one shipment."""

    shipment: str
    shipped_at: str | None
    delivered_at: str | None
    supplier: str | None = Field(description="Who shipped: site key")
    supplier_name: str | None
    supplier_licence: str | None
    consignee: str | None
    consignee_name: str | None
    consignee_licence: str | None
    product: str | None
    model: str | None
    specification: str | None
    registration_number: str | None
    udi_di: str | None
    lot: str | None
    serials: tuple[str, ...] = Field(description="Serial numbers when units are serialised")
    quantity: int
    expiry: str | None
    implant: bool
    keep_until: str | None = Field(description="Kept until (ISO date); None: permanently")
    retention_rule: str


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _lot_key(gtin: str | None, di: str | None, lot: str | None) -> str | None:
    """The key of a device's lot from its props: ``01/{GTIN-14}/10/{lot}`` or ``ma/{DI}/10/{lot}``."""
    if lot is None:
        return None
    if gtin is not None:
        return f"01/{gtin.zfill(14)}/10/{encode_key_value(lot)}"
    if di is not None and di.startswith("MA."):
        return f"ma/{di}/10/{encode_key_value(lot)}"
    return None


def distribution_records(
    store: GraphStore, facts: NmpaFacts, *, shipments: Iterable[str] | None = None, limit: int = 100_000
) -> list[DistributionRecord]:
    """The distribution records of the graph's shipments (or of ``shipments``): per shipment, the
    devices it carried (a time-respecting backward trace: what was inside when it left), grouped
    by lot, with product, expiry, dates, both parties and the retention each record needs."""
    keys = (
        list(shipments)
        if shipments is not None
        else sorted(h.key for h in store.search("shipment:", kinds=[NodeKind.SHIPMENT], limit=limit))
    )
    cache: dict[str, dict[str, Any]] = {}
    records: list[DistributionRecord] = []
    for shipment in keys:
        ship = _props(store, shipment, cache)
        result = store.trace(
            TraceQuery(starts=(shipment,), direction=TraceDirection.BACKWARD, kinds=frozenset({NodeKind.DEVICE}))
        )
        lots: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for node in result.nodes:
            if node.kind is NodeKind.DEVICE:
                device = _props(store, node.key, cache)
                identifier = device.get("gtin") or device.get("di") or ""
                lots[f"{identifier}|{device.get('lot', '')}"].append(device)
        sender, receiver = _text(ship.get("from_site")), _text(ship.get("consignee"))
        for group in sorted(lots):
            devices = lots[group]
            first = devices[0]
            gtin, di = _text(first.get("gtin")), _text(first.get("di"))
            lot_key = _lot_key(gtin, di, _text(first.get("lot")))
            part = _text(_props(store, lot_key, cache).get("part")) if lot_key else None
            product = _product(facts, part, gtin, di)
            expiry = _text(first.get("expiry"))
            shipped_at = _text(ship.get("shipped_at"))
            keep = retention(expiry=_day(expiry), recorded=_day(shipped_at) or date.today(), implant=product.implant)
            records.append(
                DistributionRecord(
                    shipment=shipment,
                    shipped_at=shipped_at,
                    delivered_at=_text(ship.get("delivered_at")),
                    supplier=sender,
                    supplier_name=_text(_props(store, sender, cache).get("name")) if sender else None,
                    supplier_licence=facts.consignees.get(sender or "", ConsigneeFacts()).licence,
                    consignee=receiver,
                    consignee_name=_text(_props(store, receiver, cache).get("name")) if receiver else None,
                    consignee_licence=facts.consignees.get(receiver or "", ConsigneeFacts()).licence,
                    product=product.name or (_text(_props(store, part, cache).get("name")) if part else None),
                    model=product.model,
                    specification=product.specification,
                    registration_number=product.registration_number,
                    udi_di=gtin or di,
                    lot=_text(first.get("lot")),
                    serials=tuple(sorted(str(d["serial"]) for d in devices if d.get("serial"))),
                    quantity=len(devices),
                    expiry=expiry,
                    implant=product.implant,
                    keep_until=keep.keep_until.isoformat() if keep.keep_until else None,
                    retention_rule=keep.rule,
                )
            )
    return records


class RetentionCheck(_Model):
    on: date
    keep: tuple[DistributionRecord, ...] = Field(description="Records that must still be kept")
    may_purge: tuple[DistributionRecord, ...] = Field(description="Records whose retention has ended")

    def to_json(self) -> dict[str, Any]:
        return {
            "on": self.on.isoformat(),
            "keep": [r.model_dump(mode="json") for r in self.keep],
            "may_purge": [r.model_dump(mode="json") for r in self.may_purge],
        }


def retention_check(records: Sequence[DistributionRecord], *, on: date | None = None) -> RetentionCheck:
    """Split ``records`` into those that must still be kept on ``on`` (default today) and those
    that may be purged: kept until expiry + 2 years, 5 years without expiry, implants for ever."""
    day = on or datetime.now(UTC).date()
    keep = [r for r in records if r.keep_until is None or date.fromisoformat(r.keep_until) >= day]
    purge = [r for r in records if r.keep_until is not None and date.fromisoformat(r.keep_until) < day]
    return RetentionCheck(on=day, keep=tuple(keep), may_purge=tuple(purge))


def delivered_date(value: float | None) -> str | None:
    """A delivery time of the recall scope (epoch seconds) as an ISO date."""
    moment = from_epoch(value)
    return None if moment is None else moment.date().isoformat()


def facts_path(value: str | None, environ: Mapping[str, str]) -> Path | None:
    """The facts file: the option, else ``TRACEGRAPH_NMPA_FACTS``, else none."""
    chosen = value or environ.get(FACTS_ENV)
    return Path(chosen) if chosen else None


# -- adverse-event clocks ----------------------------------------------------------------------------


@dataclass
class AdverseEvents:
    """The adverse-event clocks found, and what the alert rules made of them when run."""

    signals: list[Signal]
    run: AlertRun | None = None


def adverse_event_signals(store: GraphStore, *, limit: int = 100_000) -> list[Signal]:
    """One signal per reporting clock a complaint starts (``risk.nmpa.adverse_event_clocks``), for
    the alert rules ``nmpa-ae-*`` to turn into alerts due when the report is due.

    A complaint's ``outcome`` prop (``death``, ``serious_injury``), ``country`` (where it
    happened; not CN is abroad) and ``cluster`` (the id of a cluster of events, 群体不良事件)
    decide its clocks; they count from ``received_at``, when the registrant learned of it.
    """
    signals: list[Signal] = []
    for hit in store.search("complaint:", kinds=[NodeKind.COMPLAINT], limit=limit):
        if hit.kind is not NodeKind.COMPLAINT:
            continue
        props = store.node(hit.key, edge_limit=0).props
        clocks = adverse_event_clocks(
            outcome=_text(props.get("outcome")), country=_text(props.get("country")), cluster=bool(props.get("cluster"))
        )
        if not clocks:
            continue
        received = _time(props.get("received_at"))
        window = TimeWindow(start=received, end=received) if received else None
        for clock in clocks:
            signals.append(
                Signal(
                    id=signal_id(clock.rule, hit.key, window),
                    rule=clock.rule,
                    test=clock.title,
                    node=hit.key,
                    probability=1.0,
                    severity=Severity.CRITICAL,
                    summary=f"{clock.title} ({hit.key}, received {props.get('received_at', 'at an unknown time')})",
                    window=window,
                    targets=(str(props["device"]),) if props.get("device") else (),
                )
            )
    return signals


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
