"""Evidence packages: what they hold, and verification naming exactly what was altered, added or removed."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from reports.evidence import MANIFEST, RECORDS, SUBGRAPH, build_package, canonical, verify_package
from reports.publish import publish_trace_report
from reports.trace_report import FILES, ReportRequest
from schema.audit import AuditAction
from services.app import Services
from services.settings import Settings
from tests.conformance.plants import D1, repack_plant

KEY = "an-evidence-signing-key-of-some-length"


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    services = Services.build(Settings(store=f"sqlite:///{tmp_path / 'store.db'}"), migrate=True, actor="qa:bob")
    services.store.apply(repack_plant())
    yield services
    services.close()


@pytest.fixture
def package(services: Services, tmp_path: Path) -> Path:
    target = tmp_path / "evidence.zip"
    publish_trace_report(services, ReportRequest(key=D1), tmp_path / "out", package=target)
    return target


def read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rewrite(path: Path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def test_a_package_holds_reports_subgraph_records_and_a_manifest(package: Path, services: Services) -> None:
    members = read(package)
    assert set(members) == {MANIFEST, SUBGRAPH, RECORDS, *(f"reports/{name}" for name in FILES.values())}
    manifest = orjson.loads(members[MANIFEST])
    assert manifest["format"] == "tracegraph-evidence-package/1"
    assert manifest["generated_by"] == "qa:bob" and manifest["software"].startswith("tracegraph ")
    assert manifest["store"] == {"backend": "sqlite", "location": services.store.location}
    assert manifest["query"]["start"] == D1 and manifest["query"]["direction"] == "backward"
    assert manifest["signature"] is None
    listed = {f["path"]: f["sha256"] for f in manifest["files"]}
    assert listed == {name: hashlib.sha256(data).hexdigest() for name, data in members.items() if name != MANIFEST}

    subgraph = orjson.loads(members[SUBGRAPH])
    assert subgraph["nodes"][0]["key"] == D1 and subgraph["nodes"][0]["versions"][0]["provenance"]["source"]
    assert all(e["versions"] for e in subgraph["edges"])
    records = orjson.loads(members[RECORDS])
    assert [r["id"] for r in records] == [r["id"] for r in manifest["records"]]
    assert all(r["facts"] for r in records)  # every cited record proves at least one fact version
    assert {r["sha256"] for r in manifest["records"]} == {hashlib.sha256(canonical(r)).hexdigest() for r in records}
    # The audit trail as it stood, to check the package against later.
    assert manifest["audit_trail"]["head_seq"] == 1


def test_generating_is_recorded_in_the_audit_trail(package: Path, services: Services) -> None:
    trail = services.audit_trail()
    report, built = trail.entry(1), trail.entry(2)
    assert report.action == AuditAction.REPORT and report.subject == f"report:trace:{D1}" and report.actor == "qa:bob"
    assert built.action == AuditAction.PACKAGE
    assert built.new["package_sha256"] == hashlib.sha256(package.read_bytes()).hexdigest()
    assert built.new["manifest_sha256"] == hashlib.sha256(read(package)[MANIFEST]).hexdigest()


def test_an_intact_package_verifies(package: Path) -> None:
    result = verify_package(package)
    assert result.ok and result.problems == [] and result.signature == "absent"
    assert result.files == 7 and result.records > 5


def test_one_changed_byte_names_the_file(package: Path) -> None:
    members = read(package)
    csv = bytearray(members["reports/trace-timeline.csv"])
    csv[40] = ord("X") if csv[40] != ord("X") else ord("Y")
    members["reports/trace-timeline.csv"] = bytes(csv)
    rewrite(package, members)
    assert verify_package(package).problems == [
        "reports/trace-timeline.csv: altered (its SHA-256 differs from the manifest)"
    ]


def test_an_added_file_is_named(package: Path) -> None:
    members = read(package)
    members["reports/extra.txt"] = b"trust me"
    rewrite(package, members)
    assert verify_package(package).problems == ["reports/extra.txt: added (in the package, not in the manifest)"]


def test_a_removed_file_is_named(package: Path) -> None:
    members = read(package)
    del members["reports/trace-report.pdf"]
    rewrite(package, members)
    assert verify_package(package).problems == [
        "reports/trace-report.pdf: removed (listed in the manifest, not in the package)"
    ]


def test_an_altered_cited_record_is_named_even_when_its_file_hash_was_updated(package: Path) -> None:
    members = read(package)
    records = orjson.loads(members[RECORDS])
    records[2]["facts"][0]["props"] = {"quantity": 1}
    members[RECORDS] = orjson.dumps(records, option=orjson.OPT_INDENT_2)
    rewrite(package, members)
    problems = verify_package(package).problems
    rid = records[2]["id"]
    assert problems[0] == f"{RECORDS}: altered (its SHA-256 differs from the manifest)"
    assert problems[1].startswith(f"record {rid} (")
    assert problems[1].endswith("altered (its canonical JSON's SHA-256 differs from the manifest)")
    # Someone who also rewrote the file's hash in the manifest is still caught at the record.
    manifest = orjson.loads(members[MANIFEST])
    for f in manifest["files"]:
        if f["path"] == RECORDS:
            f["sha256"] = hashlib.sha256(members[RECORDS]).hexdigest()
    members[MANIFEST] = orjson.dumps(manifest)
    rewrite(package, members)
    problems = verify_package(package).problems
    assert len(problems) == 1 and problems[0].startswith(f"record {rid} (")
    # Removing a record, or adding one, is named too.
    members[RECORDS] = orjson.dumps([r for r in records if r["id"] != rid] + [{"id": "R99999", "facts": []}])
    rewrite(package, members)
    problems = verify_package(package).problems
    assert any(p.startswith(f"record {rid} (") and p.endswith("removed from records.json") for p in problems)
    assert "record R99999: added to records.json (not in the manifest)" in problems


def test_signed_packages(services: Services, tmp_path: Path) -> None:
    from reports.trace_report import build_trace_report, write_trace_report

    report = build_trace_report(services, ReportRequest(key=D1))
    files = write_trace_report(report, tmp_path / "out")
    target = tmp_path / "signed.zip"
    built = build_package(report, files, target, signing_key=KEY)
    assert built.signed and built.manifest["signature"]["algorithm"] == "HMAC-SHA256"
    assert verify_package(target, signing_key=KEY).signature == "valid"
    unchecked = verify_package(target)
    assert unchecked.ok and unchecked.signature == "unchecked" and "not checked" in unchecked.warnings[0]
    other = verify_package(target, signing_key="another-key-entirely-123")
    assert other.problems == [
        f"{MANIFEST}: the signature does not match (signed with another key: "
        f"{built.manifest['signature']['key_id']}, this key is {other_key_id()})"
    ]
    # Whoever edits the manifest to hide a change cannot re-sign it without the key.
    members = read(target)
    manifest = orjson.loads(members[MANIFEST])
    manifest["generated_by"] = "someone else"
    members[MANIFEST] = orjson.dumps(manifest)
    rewrite(target, members)
    assert verify_package(target, signing_key=KEY).problems == [
        f"{MANIFEST}: the signature does not match (the manifest was altered after it was signed)"
    ]


def other_key_id() -> str:
    from reports.evidence import key_id

    return key_id("another-key-entirely-123")


def test_not_a_package(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.zip"
    bogus.write_bytes(b"not a zip")
    assert "not a readable ZIP file" in verify_package(bogus).problems[0]
    rewrite(bogus, {"a.txt": b"x"})
    assert verify_package(bogus).problems == [f"{MANIFEST}: missing; nothing can be verified without it"]
