"""The recall report, its signatures and its evidence package, on a synthetic plant with a planted defect."""

from __future__ import annotations

import csv
import doctest
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

import reports.recall_report
import services.csvsafe
import services.signatures
from loaders.synthetic import Defect, generate_plant
from reports.evidence import verify_package
from reports.publish import (
    SignatureRequest,
    package_recall_report,
    publish_recall_report,
    sign_recall_report,
    verify_recall_signatures,
)
from reports.recall_report import (
    FILES,
    RecallRequest,
    load_facts,
    parse_facts,
    read_recall_report,
    record_key,
    signed_content,
)
from schema.access import Role
from schema.alerts import AlertState
from schema.audit import AuditAction
from schema.errors import ConflictError, ForbiddenError, InvalidInputError, UnauthenticatedError
from schema.kinds import NodeKind
from schema.model import TraceDirection, TraceQuery
from services.access import AccessControl
from services.app import Services
from services.csvsafe import unneutralise
from services.settings import Settings
from services.signatures import Signatures, SignedKind

EXAMPLE_FACTS = Path(__file__).resolve().parents[2] / "examples" / "recall-facts.yaml"


@dataclass
class Plant:
    services: Services
    access: AccessControl
    roots: list[str]
    truth_devices: set[str]
    tmp: Path
    #: One finished lot of the defect: a small recall, for the tests that render several reports.
    lot: str


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plant]:
    tmp = tmp_path_factory.mktemp("recall")
    manifest = generate_plant(tmp / "plant", scale="small", seed=5, inject=[Defect(kind="bad_supplier_lot")])
    services = Services.build(Settings(store=f"sqlite:///{tmp / 'store.db'}"), migrate=True, actor="test")
    services.load_paths([tmp / "plant"])
    access = AccessControl.for_settings(services.settings, audit=services.audit_trail())
    truth = manifest.defects[0]
    try:
        roots = list(truth.roots or [truth.lot])
        yield Plant(services, access, roots, set(truth.devices), tmp, truth.finished_lots[0])
    finally:
        access.close()
        services.close()


@pytest.fixture(scope="module")
def published(plant: Plant) -> Any:
    request = RecallRequest(starts=tuple(plant.roots), threshold=0.01)
    return publish_recall_report(plant.services, request, plant.tmp / "report", package=plant.tmp / "recall.zip")


def forward(services: Services, starts: list[str], kind: NodeKind) -> set[str]:
    query = TraceQuery(starts=tuple(starts), direction=TraceDirection.FORWARD, kinds=frozenset({kind}))
    return {n.key for n in services.trace(query).nodes}


def pdf_text(path: Path) -> str:
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(path).pages))


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [{k: unneutralise(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def key_for(plant: Plant, role: Role, name: str) -> str:
    return plant.access.create_key(name=name, role=role, actor="test").secret


# -- done when: every consignee and device the trace finds --------------------------------------


def test_the_report_lists_every_device_and_consignee_the_trace_finds(plant: Plant, published: Any) -> None:
    doc = published.report
    devices = forward(plant.services, plant.roots, NodeKind.DEVICE)
    consignees = forward(plant.services, plant.roots, NodeKind.CONSIGNEE)
    assert devices and consignees and devices == plant.truth_devices  # the trace agrees with the planted truth
    assert {d["key"] for d in doc["devices"]} == devices
    assert {c["key"] for c in doc["consignees"]} == consignees

    text = pdf_text(plant.tmp / "report" / FILES["pdf"])
    missing_devices = [k for k in devices if k not in text]
    missing_consignees = [k for k in consignees if k not in text]
    assert missing_devices == [] and missing_consignees == []

    # the consignee list: one row per device per consignee, exactly the consignees each device's trace reaches
    expected = {(c, d) for d in devices for c in forward(plant.services, [d], NodeKind.CONSIGNEE)}
    rows = csv_rows(plant.tmp / "report" / FILES["consignees"])
    assert {(r["consignee"], r["device"]) for r in rows} == expected and len(rows) == len(expected)
    assert all(r["delivered_at"] and r["shipment"].startswith("shipment:") and r["address"] for r in rows)
    assert {r["device"] for r in csv_rows(plant.tmp / "report" / FILES["devices"])} == devices


def test_the_lot_counts_and_dates_come_from_the_records(plant: Plant, published: Any) -> None:
    doc = published.report
    assert sum(lot["devices"] for lot in doc["lots"]) == len(doc["devices"])
    for lot in doc["lots"]:
        view = plant.services.node(lot["key"])
        assert (lot["manufactured"], lot["expiry"]) == (view.props["manufactured"], view.props["expiry"])
        assert lot["udi_di"] == view.props["gtin"] and lot["serial_ranges"]
    item_9 = next(row for row in doc["us_correction_removal"] if row[1] == "806.10(c)(9)")
    assert f"{len(doc['devices'])} device(s)" in item_9[2]


def test_unknown_facts_are_listed_as_missing_never_invented(published: Any) -> None:
    doc = published.report
    missing = {m["item"] for m in doc["missing"]}
    assert {"Report number", "Brand (commercial) name", "FSCA reference", "Intended use"} <= missing
    # the synthetic plant records no consignee phone numbers: each one is missing, named
    assert {f"Consignee telephone: {c['key']}" for c in doc["consignees"]} <= missing
    assert all(c["phone"] is None for c in doc["consignees"])
    assert doc["report_number"] is None and doc["eu_field_safety_notice"][0][2].startswith("MISSING")


def test_facts_from_the_example_file_fill_the_report(plant: Plant, tmp_path: Path) -> None:
    facts = load_facts(EXAMPLE_FACTS)
    assert facts.device.brand_name and facts.report_number
    request = RecallRequest(starts=(plant.lot,), facts=facts)
    result = publish_recall_report(plant.services, request, tmp_path / "r")
    missing = {m["item"] for m in result.report["missing"]}
    assert "Report number" not in missing and "Brand (commercial) name" not in missing
    text = pdf_text(tmp_path / "r" / FILES["pdf"])
    assert re.sub(r"\s+", "", facts.device.brand_name) in text and re.sub(r"\s+", "", facts.report_number) in text
    follow = {f.item: f.expected for f in facts.action.to_follow}
    for m in result.report["missing"]:
        if m["item"] in follow:
            assert m["expected"] == follow[m["item"]]


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"device": {"brand": "X"}}, "device.brand"),
        ({"device": {"model_numbers": "A1"}}, "device.model_numbers"),
        (["not", "a", "mapping"], "mapping"),
    ],
)
def test_a_bad_facts_file_is_a_clear_error(data: Any, says: str) -> None:
    with pytest.raises(InvalidInputError, match=re.escape(says)):
        parse_facts(data)


def test_facts_that_are_not_yaml_or_absent_are_typed_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("device: [unclosed\n")
    with pytest.raises(InvalidInputError, match="not valid YAML"):
        load_facts(tmp_path / "bad.yaml")
    with pytest.raises(Exception, match="recall facts file"):
        load_facts(tmp_path / "absent.yaml")


# -- evidence package ------------------------------------------------------------------------


def test_the_package_verifies_and_one_changed_byte_is_named(plant: Plant, published: Any, tmp_path: Path) -> None:
    assert verify_package(published.package.path).ok
    with zipfile.ZipFile(published.package.path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    target = f"reports/{FILES['consignees']}"
    data = bytearray(members[target])
    data[len(data) // 2] ^= 0x01
    members[target] = bytes(data)
    altered = tmp_path / "altered.zip"
    with zipfile.ZipFile(altered, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    result = verify_package(altered)
    assert not result.ok and result.problems == [f"{target}: altered (its SHA-256 differs from the manifest)"]


# -- electronic signatures -----------------------------------------------------------------------


def test_signing_needs_the_right_key_and_binds_to_the_report(plant: Plant, tmp_path: Path) -> None:
    request = RecallRequest(starts=(plant.lot,))
    out = tmp_path / "signed"
    publish_recall_report(plant.services, request, out)
    signatures = Signatures(plant.services, plant.access)
    manager = key_for(plant, Role.RECALL_MANAGER, "Jane Roe")
    engineer = key_for(plant, Role.QUALITY_ENGINEER, "Sam Poe")
    approve = SignatureRequest(api_key=manager, meaning="approval", reason="I approve this report")

    with pytest.raises(UnauthenticatedError):
        sign_recall_report(plant.services, signatures, out, SignatureRequest("tgk_000000000000_x", "approval", "r"))
    with pytest.raises(ForbiddenError, match="recall-report"):
        sign_recall_report(plant.services, signatures, out, SignatureRequest(engineer, "approval", "r"))
    with pytest.raises(InvalidInputError, match="meaning"):
        sign_recall_report(plant.services, signatures, out, SignatureRequest(manager, "liking", "r"))

    signature, files = sign_recall_report(plant.services, signatures, out, approve)
    doc = read_recall_report(out)
    assert signature.printed_name == "Jane Roe" and signature.meaning.value == "approval"
    assert [c.valid for c in verify_recall_signatures(signatures, doc)] == [True]
    # the manifestation is on the PDF: printed name, date and time, meaning
    text = pdf_text(out / FILES["pdf"])
    assert "JaneRoe" in text and "approval" in text and signature.record_sha256[:20] in text
    entry = plant.services.audit_trail().entry(signature.audit_seq or 0)
    assert entry.action == AuditAction.SIGNATURE.value and entry.reason == "I approve this report"
    assert entry.actor.startswith("key:") and entry.new["record_sha256"] == signature.record_sha256

    # the record changes: the signature no longer verifies, and says why
    changed = {**doc, "devices": doc["devices"][1:]}
    [check] = verify_recall_signatures(signatures, changed)
    assert not check.valid and "changed after it was signed" in (check.problem or "")
    # moved onto another report: refused, naming both
    other = {**doc, "report_number": "OTHER-1"}
    [check] = verify_recall_signatures(signatures, other)
    assert not check.valid and "not recall-report report:recall:OTHER-1" in (check.problem or "")
    # a signature not in the audit trail (forged) is refused
    forged = {**doc, "signatures": [{**doc["signatures"][0], "id": "sig-0000000000000000"}]}
    [check] = verify_recall_signatures(signatures, forged)
    assert not check.valid and "not in the audit trail" in (check.problem or "")
    # the package carries the signature
    package = package_recall_report(plant.services, doc, files, tmp_path / "signed.zip")
    assert package.manifest["signatures"][0]["id"] == signature.id and verify_package(package.path).ok
    assert record_key(doc) == signature.record and "signatures" not in signed_content(doc)


def test_an_open_alert_cannot_be_signed_as_closed(plant: Plant) -> None:
    opened = plant.services.alerts(state=AlertState.OPEN)
    assert opened, "the planted defect raises alerts"
    engineer = key_for(plant, Role.QUALITY_ENGINEER, "Sam Poe")
    with pytest.raises(ConflictError, match="only a closed alert"):
        Signatures(plant.services, plant.access).sign_alert_closure(
            opened[0].key, meaning="approval", api_key=engineer, reason="closed"
        )
    assert Signatures(plant.services, plant.access).all(kind=SignedKind.ALERT_CLOSURE, record=opened[0].key) == []


@pytest.mark.parametrize("module", [reports.recall_report, services.signatures, services.csvsafe])
def test_doctests(module: Any) -> None:
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def test_spreadsheet_safe_cells() -> None:
    buffer = io.StringIO()
    services.csvsafe.writer(buffer, lineterminator="\n").writerow(
        ['=HYPERLINK("http://x")', "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx", "-3.5", "+7", "a=b", "", 2]
    )
    [cells] = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert cells[:6] == ['\'=HYPERLINK("http://x")', "'+1+1", "'-1+1", "'@SUM(A1)", "'\tx", "'\rx"]
    assert cells[6:] == ["-3.5", "+7", "a=b", "", "2"]
    assert [unneutralise(c) for c in cells[:6]] == ['=HYPERLINK("http://x")', "+1+1", "-1+1", "@SUM(A1)", "\tx", "\rx"]


def test_alert_closures_and_release_decisions_are_signed_by_quality_engineers(plant: Plant) -> None:
    alert = plant.services.alerts(state=AlertState.OPEN)[-1]
    engineer = key_for(plant, Role.QUALITY_ENGINEER, "Sam Poe")
    manager = key_for(plant, Role.RECALL_MANAGER, "Jane Roe")
    signatures = Signatures(plant.services, plant.access)
    [task_key] = alert.tasks[:1]
    with pytest.raises(ConflictError, match="once the task is closed"):
        signatures.sign_release(task_key, meaning="approval", api_key=engineer, reason="release")
    for state, fields in (
        ("investigating", {}),
        ("action", {"root_cause": "supplier process change", "action": "capa"}),
        ("verification", {"disposition": "release after 100% re-inspection"}),
        ("closed", {"effectiveness_check": "no escape in 3 months"}),
    ):
        plant.services.move_task(task_key, state, fields, reason="test")

    with pytest.raises(ForbiddenError, match="alert-closure"):
        signatures.sign_alert_closure(alert.key, meaning="approval", api_key=manager, reason="closed")
    closure = signatures.sign_alert_closure(alert.key, meaning="responsibility", api_key=engineer, reason="closed")
    release = signatures.sign_release(task_key, meaning="approval", api_key=engineer, reason="stock may ship")
    assert closure.printed_name == release.printed_name == "Sam Poe"
    assert [c.valid for c in signatures.verify_alert_closure(alert.key)] == [True]
    assert [c.valid for c in signatures.verify_release(task_key)] == [True]
    # the closure's signature does not verify as the release's, nor on another alert
    moved = signatures.check(closure, SignedKind.RELEASE, task_key, {})
    assert not moved.valid and "not release" in (moved.problem or "")
