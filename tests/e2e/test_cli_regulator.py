"""Regulator-ready output as a user runs it: the audit trail, trace reports, evidence packages."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from cli.commands.audit import EXIT_INTEGRITY
from cli.context import EXIT_NOT_FOUND
from cli.main import app
from tests.conformance.plants import D1

runner = CliRunner()

SUPPLIERS = "supplier,name\nsupplier:ACME,Acme Polymers\nsupplier:BETA,Beta Resins\n"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.db'}"


def run(store: str, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--store", store, *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def load_demo_plant(store: str, tmp_path: Path) -> dict[str, str]:
    from loaders.synthetic import generate_plant

    manifest = generate_plant(tmp_path / "plant", scale="small", seed=3)
    code, _, err = run(store, "--actor", "alice@plant", "load", str(tmp_path / "plant"))
    assert code == 0, err
    return {"device": manifest.notable.finished_device, "lot": manifest.notable.failed_incoming_lot}


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


# -- audit trail ---------------------------------------------------------------------------


def test_loads_are_audited_and_the_trail_verifies(store: str, tmp_path: Path) -> None:
    (tmp_path / "suppliers.csv").write_text(SUPPLIERS)
    code, out, err = run(store, "--actor", "alice@plant", "load", str(tmp_path / "suppliers.csv"))
    assert code == 0, err
    code, _, _ = run(store, "load", str(tmp_path / "suppliers.csv"))  # again: a no-op, still recorded
    assert code == 0
    code, out, _ = run(store, "audit", "verify")
    assert code == 0 and "2 entries, chain intact" in " ".join(out.split())
    assert (tmp_path / "store.db.audit.db").is_file()

    code, out, _ = run(store, "audit", "show", "1", "--json")
    entry = json.loads(out)
    assert code == 0 and entry["actor"] == "alice@plant" and entry["action"] == "load"
    assert entry["new"]["sources"] == [str(tmp_path / "suppliers.csv")] and entry["new"]["nodes_added"] == 2
    assert re.fullmatch(r"[0-9a-f]{64}", entry["hash"]) and entry["prev_hash"] == "0" * 64
    second = json.loads(run(store, "audit", "show", "2", "--json")[1])
    assert second["actor"].startswith("os:") and second["new"]["already_loaded"] is True
    assert second["prev_hash"] == entry["hash"]

    code, out, _ = run(store, "audit", "show", "1")
    assert code == 0 and "alice@plant" in out and "load" in out
    code, out, _ = run(store, "audit", "list")
    assert code == 0 and "alice@plant" in out
    code, _, err = run(store, "audit", "show", "9")
    assert code == EXIT_NOT_FOUND and "no entry 9" in err


def test_exports_for_inspectors(store: str, tmp_path: Path) -> None:
    (tmp_path / "suppliers.csv").write_text(SUPPLIERS)
    run(store, "load", str(tmp_path / "suppliers.csv"))
    code, out, _ = run(store, "audit", "export", "--format", "json")
    document = json.loads(out)
    assert code == 0 and document["verification"]["intact"] and document["entries"][0]["action"] == "load"
    target = tmp_path / "audit.csv"
    code, _, err = run(store, "audit", "export", "--format", "csv", "--out", str(target))
    assert code == 0 and "exported to" in err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows[0]["seq"] == "1" and rows[0]["action"] == "load" and json.loads(rows[0]["new"])["nodes_added"] == 2


@pytest.mark.parametrize(
    ("statements", "named"),
    [
        (["UPDATE audit_entry SET entry = replace(entry, 'alice', 'mallory') WHERE seq = 2"], "entry 2: modified"),
        (["DELETE FROM audit_entry WHERE seq = 2"], "entry 2: missing (deleted)"),
        (["DELETE FROM audit_entry WHERE seq = 3"], "entry 3: missing (deleted from the end)"),
        (
            [
                "UPDATE audit_entry SET seq = -1 WHERE seq = 1",
                "UPDATE audit_entry SET seq = 1 WHERE seq = 2",
                "UPDATE audit_entry SET seq = 2 WHERE seq = -1",
            ],
            "entry 1: out of place: this is entry 2 of the chain",
        ),
    ],
    ids=["modified", "deleted", "truncated", "reordered"],
)
def test_verify_names_the_tampered_entry(store: str, tmp_path: Path, statements: list[str], named: str) -> None:
    for i in range(3):
        (tmp_path / f"s{i}").mkdir()
        (tmp_path / f"s{i}" / "suppliers.csv").write_text(f"supplier,name\nsupplier:S-{i},Supplier {i}\n")
        assert run(store, "--actor", "alice", "load", str(tmp_path / f"s{i}" / "suppliers.csv"))[0] == 0
    audit = tmp_path / "store.db.audit.db"
    # An auditor verifies an independent copy of the file; tamper with the original.
    shutil.copy(audit, tmp_path / "copy.audit.db")
    db = sqlite3.connect(audit, isolation_level=None)
    db.execute("DROP TRIGGER audit_entry_no_update")
    db.execute("DROP TRIGGER audit_entry_no_delete")
    for statement in statements:
        db.execute(statement)
    db.close()
    code, _, err = run(store, "audit", "verify")
    assert code == EXIT_INTEGRITY
    flat = " ".join(err.split())
    assert "has been altered" in flat and named in flat
    assert "append-only guards were removed" in flat
    code, out, _ = run(store, "audit", "verify", "--json")
    assert code == EXIT_INTEGRITY and not json.loads(out)["intact"]
    code, out, _ = run(store, "audit", "verify", "--file", str(tmp_path / "copy.audit.db"))
    assert code == 0 and "3 entries, chain intact" in " ".join(out.split())


def test_no_trail_yet(store: str, tmp_path: Path) -> None:
    code, _, err = run(store, "audit", "verify")
    assert code == EXIT_NOT_FOUND and "no audit trail at" in err
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)")
    code, _, err = run(store, "audit", "verify", "--file", str(other))
    assert code == 4 and "is not a TraceGraph audit trail" in err
    (tmp_path / "text.db").write_text("hello, I am not a database at all" * 10)
    code, _, err = run(store, "audit", "verify", "--file", str(tmp_path / "text.db"))
    assert code == 4 and "text.db" in err


def test_the_trail_file_can_be_chosen(store: str, tmp_path: Path) -> None:
    (tmp_path / "suppliers.csv").write_text(SUPPLIERS)
    elsewhere = tmp_path / "audit" / "trail.db"
    code, _, err = run(store, "load", str(tmp_path / "suppliers.csv"), env={"TRACEGRAPH_AUDIT": str(elsewhere)})
    assert code == 0, err
    assert elsewhere.is_file() and not (tmp_path / "store.db.audit.db").exists()
    assert oct(elsewhere.stat().st_mode & 0o777) == "0o600"


# -- trace reports and evidence packages ----------------------------------------------------


def test_trace_report_and_package_for_a_unit(store: str, tmp_path: Path) -> None:
    keys = load_demo_plant(store, tmp_path)
    out, package = tmp_path / "report", tmp_path / "evidence.zip"
    code, stdout, err = run(
        store, "--actor", "inspector", "report", "trace", keys["device"], "--out", str(out), "--package", str(package)
    )
    assert code == 0, err
    flat = " ".join(stdout.split())
    assert f"trace report for {keys['device']}" in flat and "evidence package" in flat and "unsigned" in flat
    for name in ("trace-report.pdf", "trace-report.json", "trace-nodes.csv", "trace-timeline.csv", "trace-sources.csv"):
        assert (out / name).is_file(), name

    report = json.loads((out / "trace-report.json").read_text())
    assert report["query"]["direction"] == "backward" and report["generated_by"] == "inspector"
    kinds = set(report["result"]["by_kind"])
    assert {"Supplier", "Equipment", "Inspection", "MaterialLot", "WorkOrder"} <= kinds
    events = {e["event"] for e in report["timeline"]}
    assert {"received", "consumed", "produced", "packed", "inspected"} <= events
    assert all(e["sources"] for e in report["timeline"])

    text = compact("\n".join(page.extract_text() for page in PdfReader(out / "trace-report.pdf").pages))
    for source in report["sources"]:
        row = (
            f"[{source['n']}]{source['source_system']}{source['source']}{source['line'] or ''}"
            f"{source['record_id'] or ''}{source['record_hash'] or ''}"
        )
        assert compact(row) in text, row
    for event in report["timeline"]:
        assert compact(f"{event['at'] or 'time unknown'}{event['event']}") in text

    code, stdout, _ = run(store, "verify", str(package))
    assert code == 0 and "intact" in stdout
    code, stdout, _ = run(store, "audit", "list", "--json")
    actions = [(e["action"], e["actor"]) for e in json.loads(stdout)]
    assert actions == [("load", "alice@plant"), ("report.generated", "inspector"), ("package.generated", "inspector")]


def test_verify_names_what_was_changed_in_a_package(store: str, tmp_path: Path) -> None:
    keys = load_demo_plant(store, tmp_path)
    package = tmp_path / "evidence.zip"
    args = ["report", "trace", keys["lot"], "--direction", "forward", "--out", str(tmp_path / "r"), "--package"]
    assert run(store, *args, str(package))[0] == 0
    with zipfile.ZipFile(package) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    members["reports/trace-nodes.csv"] = members["reports/trace-nodes.csv"].replace(b"Device", b"Gadget", 1)
    del members["reports/trace-sources.csv"]
    members["notes.txt"] = b"added later"
    with zipfile.ZipFile(package, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    report = json.loads((tmp_path / "r" / "trace-report.json").read_text())
    assert {"shipped", "delivered", "packed", "unpacked"} <= {e["event"] for e in report["timeline"]}
    code, _, err = run(store, "verify", str(package))
    flat = " ".join(err.split())
    assert code == EXIT_INTEGRITY and "3 problem(s)" in flat
    assert "reports/trace-nodes.csv: altered" in flat
    assert "reports/trace-sources.csv: removed" in flat
    assert "notes.txt: added" in flat


def test_signed_packages_verify_only_with_the_key(store: str, tmp_path: Path) -> None:
    keys = load_demo_plant(store, tmp_path)
    package = tmp_path / "signed.zip"
    key = {"TRACEGRAPH_SIGNING_KEY": "k" * 32}
    args = ["report", "trace", keys["lot"], "--out", str(tmp_path / "r"), "--package", str(package)]
    code, stdout, err = run(store, *args, env=key)
    assert code == 0, err
    assert "(signed)" in stdout
    code, stdout, _ = run(store, "verify", str(package), env=key)
    assert code == 0 and "signature valid" in " ".join(stdout.split())
    code, _, err = run(store, "verify", str(package), env={"TRACEGRAPH_SIGNING_KEY": "z" * 32})
    assert code == EXIT_INTEGRITY and "signature does not match" in err
    code, _, err = run(store, "verify", str(package))
    assert code == 0 and "not checked" in err


def test_report_errors(store: str, tmp_path: Path) -> None:
    load_demo_plant(store, tmp_path)
    code, _, err = run(store, "report", "trace", "wo:NOPE", "--out", str(tmp_path / "r"))
    assert code == EXIT_NOT_FOUND and "wo:NOPE" in err
    code, _, err = run(store, "report", "trace", D1, "--out", str(tmp_path / "r"), "--as-of", "soon")
    assert code == 2 and "ISO 8601" in err
    code, _, err = run(store, "verify", str(tmp_path / "missing.zip"))
    assert code == EXIT_NOT_FOUND
