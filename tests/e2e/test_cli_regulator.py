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
    code, out, _ = run(store, "audit", "list", "--by", "ALICE", "--action", "load", "--json")
    assert code == 0 and [e["seq"] for e in json.loads(out)] == [1]
    code, out, _ = run(
        store, "audit", "list", "--subject", entry["subject"][:3] + "*", "--since", "2000-01-01", "--json"
    )
    assert code == 0 and [e["seq"] for e in json.loads(out)] == [1, 2]
    code, out, _ = run(store, "audit", "list", "--until", "2000-01-01", "--json")
    assert code == 0 and json.loads(out) == []
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


# -- recall report, signatures, drills and KPIs -----------------------------------------------------

EVIL = '=HYPERLINK("http://evil.example","click")'
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def create_key(store: str, role: str, name: str) -> str:
    code, out, err = run(store, "keys", "create", "--role", role, "--name", name, "--json")
    assert code == 0, err
    key: str = json.loads(out)["key"]
    return key


def unsafe_cells(path: Path) -> list[str]:
    """Cells a spreadsheet would run as a formula: a trigger first, and not a number."""
    with path.open(encoding="utf-8", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    return [c for c in cells if c.startswith(TRIGGERS) and not re.fullmatch(r"[+-]?\d+(\.\d+)?", c)]


def test_a_formula_in_the_data_is_neutralised_in_every_csv(store: str, tmp_path: Path) -> None:
    keys = load_demo_plant(store, tmp_path)
    code, out, _ = run(store, "recall", "--from", keys["lot"], "--json")
    consignee = json.loads(out)["by_consignee"][0]["key"]
    fix = tmp_path / "fix"
    fix.mkdir()
    (fix / "consignees.csv").write_text(
        f'consignee,name,consignee_type,address,country\n{consignee},"{EVIL.replace(chr(34), chr(34) * 2)}",hospital,'
        '"@SUM(1+1)",DE\n'
    )
    code, _, err = run(store, "load", str(fix))
    assert code == 0, err
    (tmp_path / "bad" / "suppliers.csv").parent.mkdir()
    (tmp_path / "bad" / "suppliers.csv").write_text("supplier,name\n-cmd|'/C calc'!A0,x\n")
    reject_report = tmp_path / "rejects.csv"
    run(store, "load", str(tmp_path / "bad"), "--partial", "--reject-report", str(reject_report))
    assert reject_report.is_file()

    code, _, err = run(
        store, "--actor", "+evil", "report", "recall", "--from", keys["lot"], "--out", str(tmp_path / "rr")
    )
    assert code == 0, err
    code, _, err = run(store, "report", "trace", consignee, "--direction", "backward", "--out", str(tmp_path / "tr"))
    assert code == 0, err
    code, _, err = run(store, "audit", "export", "--format", "csv", "--out", str(tmp_path / "audit.csv"))
    assert code == 0, err

    written = [
        *(tmp_path / "rr").glob("*.csv"),
        *(tmp_path / "tr").glob("*.csv"),
        tmp_path / "audit.csv",
        reject_report,
    ]
    assert len(written) == 8
    for path in written:
        assert unsafe_cells(path) == [], path
    consignees = (tmp_path / "rr" / "recall-consignees.csv").read_text()
    assert "'=HYPERLINK(" in consignees and "'@SUM(1+1)" in consignees
    assert "'+evil" in (tmp_path / "audit.csv").read_text()
    assert "'-cmd" in reject_report.read_text()


def test_recall_report_signed_packaged_and_verified(store: str, tmp_path: Path) -> None:
    keys = load_demo_plant(store, tmp_path)
    manager = create_key(store, "recall_manager", "Jane Roe")
    engineer = create_key(store, "quality_engineer", "Sam Poe")
    out, package = tmp_path / "recall", tmp_path / "recall.zip"
    facts = Path(__file__).resolve().parents[2] / "examples" / "recall-facts.yaml"
    args = ["report", "recall", "--from", keys["lot"], "--facts", str(facts), "--out", str(out)]
    result = runner.invoke(
        app, ["--store", store, *args, "--sign", "approval", "--reason", "ok"], input=engineer + "\n"
    )
    assert result.exit_code == 1 and "may not sign a recall-report" in " ".join(result.stderr.split())

    signed = [*args, "--package", str(package), "--sign", "approval", "--reason", "I approve this report"]
    result = runner.invoke(app, ["--store", store, *signed], input=manager + "\n")
    assert result.exit_code == 0, result.stderr
    flat = compact(result.stdout)
    assert "SignedbyJaneRoe" in flat and "meaning:approval" in flat
    code, stdout, err = run(store, "verify", str(package))
    assert code == 0, err
    assert "signed by Jane Roe" in " ".join(stdout.split())
    code, stdout, err = run(store, "sign", "verify", "recall-report", str(out))
    assert code == 0 and "valid:" in stdout and "Jane Roe" in stdout

    doc = json.loads((out / "recall-report.json").read_text())
    doc["devices"] = doc["devices"][1:]
    (out / "recall-report.json").write_text(json.dumps(doc))
    code, _, err = run(store, "sign", "verify", "recall-report", str(out))
    assert code == EXIT_INTEGRITY and "changedafteritwassigned" in compact(err)

    code, out_json, _ = run(store, "sign", "list", "--json")
    [signature] = json.loads(out_json)
    assert signature["printed_name"] == "Jane Roe" and signature["meaning"] == "approval"
    code, out_json, _ = run(store, "audit", "show", str(signature["audit_seq"]), "--json")
    assert json.loads(out_json)["action"] == "signature"


def test_drills_are_timed_logged_and_shown_as_kpis(store: str, tmp_path: Path) -> None:
    keys = load_demo_plant(store, tmp_path)
    manager = create_key(store, "recall_manager", "Jane Roe")
    result = runner.invoke(
        app,
        ["--store", store, "drill", "--from", keys["lot"], "--out", str(tmp_path / "d0"), "--json"],
        input=manager + "\n",
    )
    assert result.exit_code == 0, result.stderr
    drill = json.loads(result.stdout)
    assert drill["signed"] is True and drill["consignees"] > 0 and drill["devices"] > 0
    assert 0 < drill["seconds_to_consignee_list"] <= drill["seconds_to_signed_report"]
    code, out, _ = run(store, "drill", "--from", keys["lot"], "--out", str(tmp_path / "d1"), "--no-sign", "--json")
    assert code == 0 and json.loads(out)["seconds_to_signed_report"] is None

    code, out, _ = run(store, "kpis", "--json")
    kpis = json.loads(out)
    trace = kpis["time_to_trace"]
    assert trace["drills"] == 2 and len(trace["trend"]) == 2
    assert (
        trace["median_seconds_to_signed_report"] is not None and trace["change_seconds_to_consignee_list"] is not None
    )
    assert kpis["audit_trail"]["intact"] is True and kpis["audit_trail"]["entries"] > 3
    assert set(kpis["open_alerts"]["by_grade"]) == {"watch", "warning", "critical", "recall-candidate"}
    assert kpis["supplier_scores"]["suppliers"] > 0
    code, out, _ = run(store, "kpis")
    assert code == 0 and "2 drill(s)" in out and "chain intact" in out

    # a signature's name altered in the audit trail: the entry is named, and the KPI shows the broken chain
    seq = json.loads(run(store, "sign", "list", "--json")[1])[0]["audit_seq"]
    db = sqlite3.connect(tmp_path / "store.db.audit.db", isolation_level=None)
    db.execute("DROP TRIGGER audit_entry_no_update")
    db.execute("UPDATE audit_entry SET entry = replace(entry, 'Jane Roe', 'John Doe') WHERE seq = ?", (seq,))
    db.close()
    code, _, err = run(store, "audit", "verify")
    assert code == EXIT_INTEGRITY and f"entry {seq}:" in " ".join(err.split())
    code, out, _ = run(store, "kpis", "--json")
    health = json.loads(out)["audit_trail"]
    assert health["intact"] is False and health["problems"][0]["entry"] == seq
