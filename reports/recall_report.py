"""The recall report: what a US correction or removal report (21 CFR 806.10(c)) and an EU Field
Safety Notice (MEDDEV 2.12/1 rev. 8 template) need, from a recall scope, as PDF, CSV and JSON.

The data part comes from the store: the devices in scope (UDI-DI, lot, serial, manufacture and
expiry dates), the number in each lot, every consignee each device reached (one trace per device:
distributors as well as the hospitals they supplied) with address, phone, delivery dates and
counts, and the source record behind every line. The company part (manufacturer, responsible
person, brand and common name, intended use, marketing status, FSCA reference, event and actions,
contact, communications) comes from a YAML file (:class:`RecallFacts`; an example is
``examples/recall-facts.yaml``). Nothing is invented: whatever neither holds is listed under
"Missing information", with the regulation that asks for it and, when the file says so, when it
will follow.

The JSON document is the report (:func:`build_recall_report`); the PDF and CSVs are rendered from
it, so a signature added later (:mod:`services.signatures`) re-renders the PDF with its
manifestation without changing what was signed: a signature covers the document without its
``signatures`` field (:func:`signed_content`).
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reports.evidence import FORMAT as PACKAGE_FORMAT
from reports.pdf import Citations, PdfReport, cite_text
from risk.recall import RecallScope
from schema.errors import InvalidInputError, NotFoundError
from schema.kinds import EdgeType, NodeKind
from schema.model import NodeView, Provenance, TraceDirection, TraceQuery, iso
from services import csvsafe
from services.app import Services
from services.version import software

FORMAT = "tracegraph-recall-report/1"

FILES = {
    "pdf": "recall-report.pdf",
    "json": "recall-report.json",
    "fields": "recall-report.csv",
    "devices": "recall-devices.csv",
    "consignees": "recall-consignees.csv",
}

#: Relationships read per consignee to find its deliveries (and their source records).
CONSIGNEE_EDGE_LIMIT = 100_000

# -- the facts file ------------------------------------------------------------------------


class _Facts(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Party(_Facts):
    name: str | None = None
    title: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


class DeviceFacts(_Facts):
    brand_name: str | None = Field(None, description="Brand (commercial) name")
    common_name: str | None = Field(None, description="Common, usual or classification name")
    intended_use: str | None = None
    marketing_status: str | None = Field(None, description="510(k), PMA, De Novo, exempt, CE (MDR) …")
    premarket_number: str | None = Field(None, description="K123456, P123456 … (or 'exempt')")
    model_numbers: list[str] = Field(default_factory=list, description="Model, catalogue or code numbers")


class Communication(_Facts):
    title: str
    date: str | None = None
    recipients: str | None = None
    file: str | None = Field(None, description="Where the copy is (attach it to the submission)")


class FollowUp(_Facts):
    item: str
    why: str | None = None
    expected: str | None = Field(None, description="When it will be submitted (a date)")


class ActionFacts(_Facts):
    type: str | None = Field(None, description="Type of action: recall (removal), correction, advisory notice …")
    event_description: str | None = Field(None, description="The event(s) giving rise to the action")
    problem: str | None = Field(None, description="Description of the problem (FSN)")
    risk: str | None = Field(None, description="The risk to patients or users (FSN), the health hazard")
    actions_taken: str | None = Field(None, description="Actions taken and to be taken by the manufacturer")
    actions_for_users: str | None = Field(None, description="What users must do (FSN)")
    illnesses_injuries: str | None = Field(None, description="Illnesses or injuries so far ('none known' is an answer)")
    mdr_numbers: list[str] = Field(default_factory=list, description="Medical device report numbers, if any")
    communications: list[Communication] = Field(default_factory=list)
    to_follow: list[FollowUp] = Field(default_factory=list, description="Information that will follow, and when")


class RecallFacts(_Facts):
    """What only the company knows, from the YAML file given with ``--facts``."""

    report_number: str | None = Field(None, description="806.10(c)(1): registration number-date-sequence-C or -R")
    fsca_reference: str | None = Field(None, description="The FSCA reference (EU)")
    manufacturer: Party = Field(default_factory=Party)
    registration_number: str | None = Field(None, description="FDA establishment registration number")
    responsible_person: Party = Field(default_factory=Party)
    device: DeviceFacts = Field(default_factory=DeviceFacts)
    action: ActionFacts = Field(default_factory=ActionFacts)
    contact: Party = Field(default_factory=Party, description="Contact for users and consignees (FSN)")
    distribution_note: str | None = Field(None, description="FSN: to whom this notice must be passed on")


def load_facts(path: Path | None) -> RecallFacts:
    """The facts file, validated; no file gives empty facts (everything listed as missing)."""
    if path is None:
        return RecallFacts()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise NotFoundError(f"recall facts file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"recall facts file {path} is not valid YAML: {exc}") from None
    return parse_facts(data if data is not None else {}, source=str(path))


def parse_facts(data: Any, *, source: str = "recall facts") -> RecallFacts:
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"{source}: expected a mapping of fields at the top level")
    try:
        return RecallFacts.model_validate(dict(data))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"{source}: {problems}") from None


# -- building ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecallRequest:
    """What the report covers: the recall scope's question, and the company's facts."""

    starts: tuple[str, ...] = ()
    signals: tuple[str, ...] = ()
    threshold: float | None = None
    as_of: datetime | None = None
    facts: RecallFacts = field(default_factory=RecallFacts)

    def scope_arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {"starts": list(self.starts), "signals": list(self.signals), "as_of": self.as_of}
        if self.threshold is not None:
            args["threshold"] = self.threshold
        return args


def udi_di(props: Mapping[str, Any], key: str) -> str | None:
    """The device identifier (GTIN-14) of a unit or lot."""
    if props.get("gtin"):
        return str(props["gtin"])
    match = re.match(r"^01/(\d{14})/", key)
    return match.group(1) if match else None


def serial_ranges(serials: Iterable[str]) -> list[str]:
    """Serial numbers as ranges where they run consecutively (same prefix and width).

    >>> serial_ranges(["A008", "A009", "A010", "A012", "X"])
    ['A008–A010', 'A012', 'X']
    """
    parsed: list[tuple[str, int, int, str]] = []
    other: list[str] = []
    for s in sorted(set(serials)):
        m = re.fullmatch(r"(.*?)(\d+)", s)
        if m:
            parsed.append((m.group(1), len(m.group(2)), int(m.group(2)), s))
        else:
            other.append(s)
    parsed.sort()
    out: list[str] = []
    run: list[tuple[str, int, int, str]] = []
    for item in parsed:
        if run and (item[0], item[1]) == run[-1][:2] and item[2] == run[-1][2] + 1:
            run.append(item)
            continue
        if run:
            out.append(run[0][3] if len(run) == 1 else f"{run[0][3]}–{run[-1][3]}")
        run = [item]
    if run:
        out.append(run[0][3] if len(run) == 1 else f"{run[0][3]}–{run[-1][3]}")
    return out + other


def _epoch_iso(t: float | None) -> str | None:
    return None if t is None else iso(datetime.fromtimestamp(t, UTC))


def _cites(citations: Citations, provenances: Iterable[Provenance]) -> list[int]:
    return citations.cite_all(provenances)


def deliveries_of(
    services: Services, devices: Sequence[str], *, as_of: datetime | None
) -> dict[str, list[dict[str, Any]]]:
    """Every consignee each device reached (a time-respecting forward trace per device), with the
    shipment that delivered it there."""
    out: dict[str, list[dict[str, Any]]] = {}
    for device in devices:
        result = services.trace(
            TraceQuery(
                starts=(device,),
                direction=TraceDirection.FORWARD,
                kinds=frozenset({NodeKind.CONSIGNEE}),
                as_of=as_of,
            )
        )
        out[device] = [
            {"consignee": n.key, "shipment": n.path[-2] if len(n.path) > 1 else None}
            for n in sorted(result.nodes, key=lambda n: (n.degree, n.key))
        ]
    return out


def build_recall_report(
    services: Services,
    request: RecallRequest,
    *,
    scope: RecallScope | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The recall report as one JSON document (the PDF and CSVs are rendered from it)."""
    if scope is None:
        scope = services.recall_scope(**request.scope_arguments())
    generated_at = generated_at or datetime.now(UTC)
    citations = Citations()
    views: dict[str, NodeView] = {}

    def view(key: str, *, edges: int = 0) -> NodeView | None:
        if key not in views:
            try:
                views[key] = services.node(key, as_of=request.as_of, edge_limit=edges)
            except NotFoundError:
                return None
        return views[key]

    device_keys = [d.key for d in scope.devices]
    reached = deliveries_of(services, [d.key for d in scope.devices if d.shipped], as_of=request.as_of)

    # consignees, with the delivery edges (dates and sources) from their shipments
    delivered: dict[tuple[str, str], tuple[str | None, list[int]]] = {}
    consignee_keys = sorted({r["consignee"] for rows in reached.values() for r in rows})
    for key in consignee_keys:
        v = view(key, edges=CONSIGNEE_EDGE_LIMIT)
        if v is None:
            continue
        for e in v.edges_in:
            if e.type is EdgeType.DELIVERED_TO and not e.retracted:
                delivered[(e.source, key)] = (iso(e.at), _cites(citations, (x.provenance for x in e.versions)))

    devices: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
    lots: dict[str, dict[str, Any]] = {}
    for d in scope.devices:
        v = view(d.key)
        props = v.props if v else {}
        device_cites = _cites(citations, (x.provenance for x in v.versions)) if v else []
        lot_key = d.lot
        lot_props: Mapping[str, Any] = {}
        if lot_key:
            lv = view(lot_key)
            lot_props = lv.props if lv else {}
            lot = lots.setdefault(
                lot_key,
                {
                    "key": lot_key,
                    "udi_di": udi_di(lot_props, lot_key),
                    "lot": lot_props.get("lot"),
                    "manufactured": lot_props.get("manufactured"),
                    "expiry": lot_props.get("expiry"),
                    "lot_quantity": lot_props.get("quantity"),
                    "devices": 0,
                    "shipped": 0,
                    "on_hand": 0,
                    "serials": [],
                    "sources": _cites(citations, (x.provenance for x in lv.versions)) if lv else [],
                },
            )
            lot["devices"] += 1
            lot["shipped" if d.shipped else "on_hand"] += 1
            if props.get("serial"):
                lot["serials"].append(str(props["serial"]))
        rows = reached.get(d.key, [])
        devices.append(
            {
                "key": d.key,
                "udi_di": udi_di(props, d.key),
                "serial": props.get("serial"),
                "lot": props.get("lot") or lot_props.get("lot"),
                "lot_key": lot_key,
                "manufactured": props.get("manufactured") or lot_props.get("manufactured"),
                "expiry": props.get("expiry") or lot_props.get("expiry"),
                "probability": round(d.probability, 6),
                "status": "shipped" if d.shipped else "on hand",
                "container": d.container,
                "consignees": [r["consignee"] for r in rows],
                "path": list(d.path),
                "sources": device_cites,
            }
        )
        for r in rows:
            at, edge_cites = delivered.get((r["shipment"], r["consignee"]), (None, []))
            deliveries.append(
                {
                    "consignee": r["consignee"],
                    "device": d.key,
                    "udi_di": devices[-1]["udi_di"],
                    "lot": devices[-1]["lot"],
                    "serial": devices[-1]["serial"],
                    "shipment": r["shipment"],
                    "delivered_at": at,
                    "sources": sorted(set(edge_cites) | set(device_cites)),
                }
            )

    consignees: list[dict[str, Any]] = []
    by_consignee: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in deliveries:
        by_consignee[row["consignee"]].append(row)
    for key in consignee_keys:
        v = views.get(key)
        props = v.props if v else {}
        rows = by_consignee[key]
        dates = sorted(r["delivered_at"] for r in rows if r["delivered_at"])
        consignees.append(
            {
                "key": key,
                "name": props.get("name"),
                "type": props.get("consignee_type"),
                "address": props.get("address"),
                "country": props.get("country"),
                "phone": props.get("phone"),
                "devices": len({r["device"] for r in rows}),
                "first_delivered": dates[0] if dates else None,
                "last_delivered": dates[-1] if dates else None,
                "shipments": sorted({r["shipment"] for r in rows if r["shipment"]}),
                "sources": _cites(citations, (x.provenance for x in v.versions)) if v else [],
            }
        )

    lot_rows = []
    for lot in sorted(lots.values(), key=lambda x: x["key"]):
        lot_rows.append(
            {**{k: v for k, v in lot.items() if k != "serials"}, "serial_ranges": serial_ranges(lot["serials"])}
        )

    stats = services.stats()
    doc: dict[str, Any] = {
        "report": "recall",
        "format": FORMAT,
        "report_number": request.facts.report_number,
        "fsca_reference": request.facts.fsca_reference,
        "generated_at": iso(generated_at),
        "generated_by": services.actor,
        "software": software(),
        "store": {"backend": stats.backend, "location": stats.location},
        "query": {
            "starts": list(scope.starts),
            "signals": list(scope.signals),
            "threshold": scope.threshold,
            "as_of": iso(request.as_of),
        },
        "facts": request.facts.model_dump(mode="json"),
        "summary": {
            "devices": len(device_keys),
            "shipped": sum(1 for d in scope.devices if d.shipped),
            "on_hand": sum(1 for d in scope.devices if not d.shipped),
            "lots": len(lot_rows),
            "consignees": len(consignees),
            "deliveries": len(deliveries),
            "candidates": scope.candidates,
            "expected_affected": round(scope.expected_in_scope, 3),
            "is_partial": scope.is_partial,
        },
        "lots": lot_rows,
        "devices": devices,
        "consignees": consignees,
        "deliveries": deliveries,
        "sources": [{"n": n, **p.model_dump()} for n, p in citations],
    }
    doc["missing"] = missing_information(doc, request.facts)
    doc["us_correction_removal"] = [list(row) for row in us_fields(doc)]
    doc["eu_field_safety_notice"] = [list(row) for row in fsn_fields(doc)]
    doc["signatures"] = []
    return doc


# -- the regulatory fields --------------------------------------------------------------------

MISSING = "MISSING (see Missing information)"


def _party(p: Mapping[str, Any]) -> str | None:
    parts = [p.get("name"), p.get("title"), p.get("address"), p.get("phone"), p.get("email")]
    text = ", ".join(str(x) for x in parts if x)
    return text or None


def _or_missing(value: Any) -> str:
    if value is None or value == "" or value == []:
        return MISSING
    return str(value)


def _lots_text(doc: Mapping[str, Any]) -> str | None:
    parts = []
    for lot in doc["lots"]:
        parts.append(
            f"UDI-DI {lot['udi_di'] or '?'} lot {lot['lot'] or lot['key']}: serials {', '.join(lot['serial_ranges'])}"
        )
    return "; ".join(parts) or None


def us_fields(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The content of 21 CFR 806.10(c), item by item: (item, basis, value)."""
    f = doc["facts"]
    dev, act, s = f["device"], f["action"], doc["summary"]
    udis = sorted(
        {lot["udi_di"] for lot in doc["lots"] if lot["udi_di"]} | {d["udi_di"] for d in doc["devices"] if d["udi_di"]}
    )
    made = sorted(x for x in {lot["manufactured"] for lot in doc["lots"]} if x)
    expiry = sorted(x for x in {lot["expiry"] for lot in doc["lots"]} if x)
    shipped = sorted(d["delivered_at"] for d in doc["deliveries"] if d["delivered_at"])
    per_lot = "; ".join(f"{lot['lot'] or lot['key']}: {lot['devices']}" for lot in doc["lots"])
    communications = "; ".join(
        " ".join(x for x in (c["title"], c.get("date") and f"({c['date']})", c.get("file") and f"[{c['file']}]") if x)
        for c in act["communications"]
    )
    to_follow = [m for m in doc["missing"]]
    rows = [
        ("Report number", "806.10(c)(1)", _or_missing(f["report_number"])),
        (
            "Manufacturer; responsible person",
            "806.10(c)(2)",
            f"{_or_missing(_party(f['manufacturer']))}; responsible: {_or_missing(_party(f['responsible_person']))}",
        ),
        (
            "Brand name, common name, intended use",
            "806.10(c)(3)",
            f"{_or_missing(dev['brand_name'])}; {_or_missing(dev['common_name'])}; {_or_missing(dev['intended_use'])}",
        ),
        (
            "Marketing status",
            "806.10(c)(4)",
            f"{_or_missing(dev['marketing_status'])} {dev['premarket_number'] or ''}".strip(),
        ),
        (
            "UDI-DI, model and lot or serial numbers",
            "806.10(c)(5)",
            f"UDI-DI {', '.join(udis) or MISSING}; models {', '.join(dev['model_numbers']) or MISSING}; "
            f"{_or_missing(_lots_text(doc))}",
        ),
        ("Manufacturer (if not the reporter)", "806.10(c)(6)", _or_missing(_party(f["manufacturer"]))),
        (
            "Event and actions",
            "806.10(c)(7)",
            f"{_or_missing(act['event_description'])} Actions: {_or_missing(act['actions_taken'])}",
        ),
        (
            "Illnesses or injuries",
            "806.10(c)(8)",
            _or_missing(act["illnesses_injuries"])
            + (f" (MDR {', '.join(act['mdr_numbers'])})" if act["mdr_numbers"] else ""),
        ),
        (
            "Devices subject to the action, and in each lot",
            "806.10(c)(9)",
            f"{s['devices']} device(s) ({s['shipped']} distributed, {s['on_hand']} on hand); "
            f"per lot: {per_lot or 'none'}",
        ),
        (
            "Manufacture and distribution dates; expiry",
            "806.10(c)(10)",
            f"manufactured {_span(made)}; distributed {_span([x[:10] for x in shipped])}; expiry {_span(expiry)}",
        ),
        (
            "Consignees",
            "806.10(c)(11)",
            f"{s['consignees']} consignee(s), {s['deliveries']} device deliveries: see the consignee list "
            "(recall-consignees.csv)",
        ),
        ("Communications", "806.10(c)(12)", communications or MISSING),
        (
            "Information still missing, and when it follows",
            "806.10(c)(13)",
            f"{len(to_follow)} item(s): see Missing information" if to_follow else "none",
        ),
    ]
    return rows


def _span(values: Sequence[str]) -> str:
    if not values:
        return MISSING
    return values[0] if values[0] == values[-1] else f"{values[0]} to {values[-1]}"


def fsn_fields(doc: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The fields of an EU Field Safety Notice (MEDDEV 2.12/1 rev. 8, annex 5): (field, basis, value)."""
    f = doc["facts"]
    dev, act = f["device"], f["action"]
    return [
        ("Commercial name of the affected product", "FSN", _or_missing(dev["brand_name"])),
        ("FSCA reference", "FSN", _or_missing(f["fsca_reference"])),
        ("Type of action", "FSN", _or_missing(act["type"])),
        ("Affected devices (UDI-DI, lot and serial numbers or ranges)", "FSN", _or_missing(_lots_text(doc))),
        ("Description of the problem", "FSN", _or_missing(act["problem"] or act["event_description"])),
        ("Risk to patients or users", "FSN", _or_missing(act["risk"])),
        ("Actions to be taken by the user", "FSN", _or_missing(act["actions_for_users"])),
        ("Transmission of this notice", "FSN", _or_missing(f["distribution_note"])),
        ("Contact reference person", "FSN", _or_missing(_party(f["contact"]))),
    ]


#: Facts a complete report needs: (path in the facts file, what it is, who asks for it).
REQUIRED_FACTS: tuple[tuple[str, str, str], ...] = (
    ("report_number", "Report number", "21 CFR 806.10(c)(1)"),
    ("registration_number", "FDA establishment registration number", "21 CFR 806.10(c)(1)"),
    ("manufacturer.name", "Manufacturer name", "21 CFR 806.10(c)(2), FSN"),
    ("manufacturer.address", "Manufacturer address", "21 CFR 806.10(c)(2)"),
    ("manufacturer.phone", "Manufacturer telephone", "21 CFR 806.10(c)(2)"),
    ("responsible_person.name", "Responsible person: name", "21 CFR 806.10(c)(2)"),
    ("responsible_person.title", "Responsible person: title", "21 CFR 806.10(c)(2)"),
    ("responsible_person.address", "Responsible person: address", "21 CFR 806.10(c)(2)"),
    ("responsible_person.phone", "Responsible person: telephone", "21 CFR 806.10(c)(2)"),
    ("device.brand_name", "Brand (commercial) name", "21 CFR 806.10(c)(3), FSN"),
    ("device.common_name", "Common name", "21 CFR 806.10(c)(3)"),
    ("device.intended_use", "Intended use", "21 CFR 806.10(c)(3)"),
    ("device.marketing_status", "Marketing status (510(k), PMA, exempt)", "21 CFR 806.10(c)(4)"),
    ("device.model_numbers", "Model, catalogue or code numbers", "21 CFR 806.10(c)(5)"),
    ("fsca_reference", "FSCA reference", "FSN"),
    ("action.type", "Type of action", "FSN"),
    ("action.event_description", "Description of the event", "21 CFR 806.10(c)(7), FSN"),
    ("action.actions_taken", "Actions taken and to be taken", "21 CFR 806.10(c)(7)"),
    ("action.illnesses_injuries", "Illnesses or injuries", "21 CFR 806.10(c)(8)"),
    ("action.risk", "Risk to patients or users", "FSN"),
    ("action.actions_for_users", "Actions for users", "FSN"),
    ("action.communications", "Copies of communications", "21 CFR 806.10(c)(12)"),
    ("contact.name", "Contact reference person", "FSN"),
    ("contact.phone", "Contact telephone", "FSN"),
)


def _get(data: Mapping[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def missing_information(doc: Mapping[str, Any], facts: RecallFacts) -> list[dict[str, Any]]:
    """Everything the report should state and cannot: facts not in the file, and data the store
    does not hold (a consignee's address or phone, a lot's dates), each with who asks for it."""
    given = facts.model_dump(mode="json")
    follow = {f.item: f for f in facts.action.to_follow}
    out: list[dict[str, Any]] = []

    def add(item: str, basis: str, detail: str) -> None:
        f = follow.get(item)
        out.append(
            {
                "item": item,
                "basis": basis,
                "detail": detail,
                "why": f.why if f else None,
                "expected": f.expected if f else None,
            }
        )

    for path, label, basis in REQUIRED_FACTS:
        if _get(given, path) in (None, "", []):
            add(label, basis, f"not in the recall facts file ({path})")
    for c in doc["consignees"]:
        for field_name, label in (("address", "address"), ("phone", "telephone")):
            if not c[field_name]:
                add(
                    f"Consignee {label}: {c['key']}",
                    "21 CFR 806.10(c)(11)",
                    f"the store holds no {field_name} for {c['name'] or c['key']}",
                )
    for c in doc["consignees"]:
        if not c["first_delivered"]:
            add(f"Delivery dates: {c['key']}", "21 CFR 806.10(c)(11)", "no delivery time is recorded")
    for lot in doc["lots"]:
        for field_name, label in (("manufactured", "manufacture date"), ("expiry", "expiry date")):
            if not lot[field_name]:
                add(
                    f"Lot {label}: {lot['key']}", "21 CFR 806.10(c)(10)", f"the store holds no {field_name} for the lot"
                )
    unlotted = [d["key"] for d in doc["devices"] if not d["lot_key"]]
    if unlotted:
        add(
            "Lot of some devices", "21 CFR 806.10(c)(5)", f"{len(unlotted)} device(s) without a lot, e.g. {unlotted[0]}"
        )
    if doc["summary"]["is_partial"]:
        add("Complete scope", "21 CFR 806.10(c)(9)", "a server limit cut a trace short: the scope may be incomplete")
    for f in facts.action.to_follow:
        if f.item not in {m["item"] for m in out}:
            out.append(
                {
                    "item": f.item,
                    "basis": "declared in the facts file",
                    "detail": "",
                    "why": f.why,
                    "expected": f.expected,
                }
            )
    return out


# -- signatures ----------------------------------------------------------------------------


def signed_content(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What a signature on the report covers: the document without its ``signatures``."""
    return {k: v for k, v in doc.items() if k != "signatures"}


def record_key(doc: Mapping[str, Any]) -> str:
    """How the audit trail and signatures name a recall report."""
    number = (
        doc.get("report_number")
        or f"{'+'.join(doc['query']['starts'] + doc['query']['signals'])}@{doc['generated_at']}"
    )
    return f"report:recall:{number}"


# -- rendering -------------------------------------------------------------------------------


def _source_lines(doc: Mapping[str, Any]) -> dict[int, str]:
    """``[n] system:file:line sha256:…`` for every cited record, by number."""
    return {
        s["n"]: f"[{s['n']}] " + cite_text(Provenance.model_validate({k: v for k, v in s.items() if k != "n"}))
        for s in doc["sources"]
    }


def _sources_text(lines: Mapping[int, str], numbers: Sequence[int]) -> str:
    return " | ".join(lines[n] for n in numbers if n in lines)


def render_pdf(doc: Mapping[str, Any], target: Path | io.BytesIO) -> None:
    s = doc["summary"]
    title = f"Recall report {doc['report_number'] or '(no report number)'}"
    pdf = PdfReport(
        title, footer=f"{title} · generated {doc['generated_at']} · {doc['software']}", subject="recall report"
    )
    query = doc["query"]
    pdf.title_block(
        title,
        [
            ("FSCA reference", doc["fsca_reference"] or MISSING),
            ("Starts", ", ".join(query["starts"]) or "none"),
            ("Signals", ", ".join(query["signals"]) or "none"),
            ("Threshold", str(query["threshold"])),
            ("As of", query["as_of"] or "now (everything recorded)"),
            (
                "Scope",
                f"{s['devices']} device(s) in {s['lots']} lot(s); {s['shipped']} shipped to {s['consignees']} "
                f"consignee(s), {s['on_hand']} on hand" + (" (PARTIAL)" if s["is_partial"] else ""),
            ),
            ("Generated at", doc["generated_at"]),
            ("Generated by", doc["generated_by"]),
            ("Software", doc["software"]),
            ("Store", f"{doc['store']['backend']} {doc['store']['location']}"),
        ],
        subtitle="Correction or removal report (21 CFR 806.10(c)) and Field Safety Notice (MEDDEV 2.12/1)",
    )
    pdf.heading("Electronic signatures")
    signatures = doc.get("signatures") or []
    if signatures:
        pdf.data_table(
            ["printed name", "signer", "date and time (UTC)", "meaning", "reason", "record SHA-256"],
            [
                [g["printed_name"], g["signer"], g["signed_at"], g["meaning"], g["reason"], g["record_sha256"]]
                for g in signatures
            ],
            widths=[1.2, 1.0, 1.1, 0.7, 1.6, 2.4],
            mono=(5,),
        )
    else:
        pdf.paragraph("Not signed.")
    pdf.heading("21 CFR 806.10(c): correction or removal report")
    pdf.data_table(["item", "basis", "content"], doc["us_correction_removal"], widths=[1.4, 0.8, 5.0])
    pdf.heading("Field Safety Notice (MEDDEV 2.12/1)")
    pdf.data_table(["field", "basis", "content"], doc["eu_field_safety_notice"], widths=[1.4, 0.4, 5.4])
    pdf.heading("Missing information (806.10(c)(13))")
    pdf.data_table(
        ["item", "required by", "detail", "why", "expected"],
        [[m["item"], m["basis"], m["detail"], m["why"] or "", m["expected"] or "not stated"] for m in doc["missing"]],
        widths=[1.6, 1.0, 2.0, 1.2, 0.8],
        empty="nothing is missing",
    )
    pdf.heading("Lots")
    pdf.data_table(
        ["lot", "UDI-DI", "manufactured", "expiry", "in scope", "shipped", "on hand", "serial numbers"],
        [
            [
                lot["lot"] or lot["key"],
                lot["udi_di"] or "",
                lot["manufactured"] or MISSING,
                lot["expiry"] or MISSING,
                str(lot["devices"]),
                str(lot["shipped"]),
                str(lot["on_hand"]),
                ", ".join(lot["serial_ranges"]),
            ]
            for lot in doc["lots"]
        ],
        cites=[lot["sources"] for lot in doc["lots"]],
        widths=[1.0, 1.0, 0.8, 0.8, 0.5, 0.5, 0.5, 2.4],
    )
    pdf.heading("Consignees")
    pdf.data_table(
        ["consignee", "name", "address", "phone", "country", "devices", "delivered"],
        [
            [
                c["key"],
                c["name"] or "",
                c["address"] or MISSING,
                c["phone"] or MISSING,
                c["country"] or "",
                str(c["devices"]),
                _span([x for x in (c["first_delivered"], c["last_delivered"]) if x]),
            ]
            for c in doc["consignees"]
        ],
        cites=[c["sources"] for c in doc["consignees"]],
        widths=[1.1, 1.3, 1.6, 0.8, 0.4, 0.4, 1.4],
    )
    pdf.heading("Consignee list: every device delivered to every consignee")
    pdf.long_table(
        ["consignee", "device (UDI)", "lot", "shipment", "delivered at"],
        [
            [r["consignee"], r["device"], r["lot"] or "", r["shipment"] or "", r["delivered_at"] or MISSING]
            for r in doc["deliveries"]
        ],
        cites=[r["sources"] for r in doc["deliveries"]],
        widths=[1.0, 2.0, 0.9, 1.2, 1.2],
        empty="no device in scope has been delivered",
    )
    pdf.heading("Devices in scope")
    pdf.long_table(
        ["device (UDI)", "lot", "manufactured", "expiry", "prob.", "status", "consignees"],
        [
            [
                d["key"],
                d["lot"] or "",
                d["manufactured"] or "",
                d["expiry"] or "",
                f"{d['probability']:.3f}",
                d["status"] + (f" ({d['container']})" if d["container"] else ""),
                ", ".join(d["consignees"]),
            ]
            for d in doc["devices"]
        ],
        cites=[d["sources"] for d in doc["devices"]],
        widths=[2.0, 0.8, 0.7, 0.7, 0.45, 1.5, 1.7],
    )
    pdf.heading("Source records")
    pdf.long_table(
        ["#", "system", "file or message", "line", "record id", "record SHA-256"],
        [
            [
                f"[{r['n']}]",
                r["source_system"],
                r["source"],
                "" if r.get("line") is None else str(r["line"]),
                r.get("record_id") or "",
                r.get("record_hash") or "",
            ]
            for r in doc["sources"]
        ],
        widths=[0.35, 0.5, 1.9, 0.35, 1.9, 3.3],
        empty="no source records are cited",
    )
    pdf.write(target)


FIELD_COLUMNS = ["section", "item", "basis", "content"]
DEVICE_COLUMNS = [
    "device", "udi_di", "serial", "lot", "manufactured", "expiry", "probability", "status", "container",
    "consignees", "sources", "source_records",
]  # fmt: skip
CONSIGNEE_COLUMNS = [
    "consignee", "name", "type", "address", "phone", "country", "device", "udi_di", "lot", "serial",
    "shipment", "delivered_at", "sources", "source_records",
]  # fmt: skip


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csvsafe.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def render_csvs(doc: Mapping[str, Any]) -> dict[str, str]:
    """The report's fields, its devices, and the consignee list (one row per device per consignee)."""
    fields = [["806.10(c)", *row] for row in doc["us_correction_removal"]]
    fields += [["field safety notice", *row] for row in doc["eu_field_safety_notice"]]
    fields += [
        ["missing", m["item"], m["basis"], f"{m['detail']} (expected: {m['expected'] or 'not stated'})"]
        for m in doc["missing"]
    ]
    fields += [
        ["signature", g["printed_name"], g["meaning"], f"{g['signed_at']} {g['signer']} sha256:{g['record_sha256']}"]
        for g in doc.get("signatures") or []
    ]
    consignees = {c["key"]: c for c in doc["consignees"]}
    lines = _source_lines(doc)
    return {
        "fields": _table(FIELD_COLUMNS, fields),
        "devices": _table(
            DEVICE_COLUMNS,
            (
                [
                    d["key"],
                    d["udi_di"] or "",
                    d["serial"] or "",
                    d["lot"] or "",
                    d["manufactured"] or "",
                    d["expiry"] or "",
                    d["probability"],
                    d["status"],
                    d["container"] or "",
                    " ".join(d["consignees"]),
                    " ".join(map(str, d["sources"])),
                    _sources_text(lines, d["sources"]),
                ]
                for d in doc["devices"]
            ),
        ),
        "consignees": _table(
            CONSIGNEE_COLUMNS,
            (
                [
                    r["consignee"],
                    consignees[r["consignee"]]["name"] or "",
                    consignees[r["consignee"]]["type"] or "",
                    consignees[r["consignee"]]["address"] or "",
                    consignees[r["consignee"]]["phone"] or "",
                    consignees[r["consignee"]]["country"] or "",
                    r["device"],
                    r["udi_di"] or "",
                    r["lot"] or "",
                    r["serial"] or "",
                    r["shipment"] or "",
                    r["delivered_at"] or "",
                    " ".join(map(str, r["sources"])),
                    _sources_text(lines, r["sources"]),
                ]
                for r in doc["deliveries"]
            ),
        ),
    }


def write_recall_report(doc: Mapping[str, Any], out_dir: Path) -> list[Path]:
    """Write the PDF, the JSON and the three CSVs into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf_path = out_dir / FILES["pdf"]
    render_pdf(doc, pdf_path)
    json_path = out_dir / FILES["json"]
    json_path.write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    written = [pdf_path, json_path]
    for name, text in render_csvs(doc).items():
        path = out_dir / FILES[name]
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def read_recall_report(path: Path) -> dict[str, Any]:
    """A recall report's JSON document, from the file or from the directory holding it."""
    target = path / FILES["json"] if path.is_dir() else path
    try:
        doc = orjson.loads(target.read_bytes())
    except OSError as exc:
        raise NotFoundError(f"no recall report at {target}: {exc.strerror or exc}") from None
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"{target} is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidInputError(f"{target} is not a TraceGraph recall report ({FORMAT})")
    return doc


def report_files(out_dir: Path) -> list[Path]:
    return [out_dir / name for name in FILES.values()]


# -- evidence package -----------------------------------------------------------------------


def package_parts(doc: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """What an evidence package holds besides the files: the subgraph (each device's explaining
    path and deliveries), the cited records with the report lines each proves, and a line naming
    each record."""
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for section, rows, key in (
        ("lot", doc["lots"], "key"),
        ("device", doc["devices"], "key"),
        ("consignee", doc["consignees"], "key"),
    ):
        for row in rows:
            for n in row["sources"]:
                lines[n].append({"line": section, "key": row[key]})
    for row in doc["deliveries"]:
        for n in row["sources"]:
            lines[n].append({"line": "delivery", "consignee": row["consignee"], "device": row["device"]})
    records = []
    cites: dict[str, str] = {}
    for src in doc["sources"]:
        provenance = {k: v for k, v in src.items() if k != "n"}
        rid = f"R{src['n']:05d}"
        records.append({"id": rid, "n": src["n"], "provenance": provenance, "proves": lines.get(src["n"], [])})
        cites[rid] = cite_text(Provenance.model_validate(provenance))
    graph = {
        "query": doc["query"],
        "paths": {d["key"]: d["path"] for d in doc["devices"]},
        "deliveries": [
            {"device": r["device"], "shipment": r["shipment"], "consignee": r["consignee"], "at": r["delivered_at"]}
            for r in doc["deliveries"]
        ],
    }
    return graph, records, cites


def package_manifest(doc: Mapping[str, Any], audit: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "format": PACKAGE_FORMAT,
        "report": "recall",
        "generated_at": doc["generated_at"],
        "generated_by": doc["generated_by"],
        "software": doc["software"],
        "store": doc["store"],
        "query": doc["query"],
        "result": doc["summary"],
        "audit_trail": dict(audit) if audit is not None else None,
    }
