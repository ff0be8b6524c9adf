"""The ``tracegraph`` command as a user runs it: output, exit codes, error messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.context import EXIT_INVALID, EXIT_NOT_FOUND, EXIT_STORE
from cli.main import app
from graph.sqlite.store import SQLiteStore
from tests.conformance.plants import D1, HOSPITAL_1, HOSPITAL_2, RESIN_LOT, SUPPLIER, repack_plant

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    path = tmp_path / "cli.db"
    store = SQLiteStore(path)
    store.migrate()
    store.apply(repack_plant())
    store.close()
    return f"sqlite:///{path}"


def run(store_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--store", store_url, *args])
    return result.exit_code, result.stdout, result.stderr


def test_trace_json_is_one_object_in_the_documented_shape(store_url: str) -> None:
    code, out, _ = run(store_url, "trace", "forward", D1, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"starts", "direction", "total", "truncated", "is_partial", "nodes", "edges"}
    assert data["starts"] == [D1] and data["direction"] == "forward"
    keys = {n["key"] for n in data["nodes"]}
    assert HOSPITAL_1 in keys and HOSPITAL_2 not in keys
    assert data["total"] == len(data["nodes"])
    node = next(n for n in data["nodes"] if n["key"] == HOSPITAL_1)
    assert node["kind"] == "Consignee" and node["path"][0] == D1 and node["path"][-1] == HOSPITAL_1
    assert {"source", "target", "type"} == set(data["edges"][0])


def test_trace_accepts_any_key_form_and_options(store_url: str) -> None:
    gtin, serial = D1.split("/")[1], D1.split("/")[3]
    code, out, _ = run(store_url, "trace", "forward", f"(01){gtin}(21){serial}", "--ignore-time", "--json")
    assert code == 0 and HOSPITAL_2 in {n["key"] for n in json.loads(out)["nodes"]}
    code, out, _ = run(store_url, "trace", "backward", HOSPITAL_1, "--kinds", "Supplier", "--json")
    assert code == 0 and [n["key"] for n in json.loads(out)["nodes"]] == [SUPPLIER]
    code, out, _ = run(store_url, "trace", "forward", RESIN_LOT, "--limit", "3", "--json")
    data = json.loads(out)
    assert data["truncated"] and data["total"] == 12 and len(data["nodes"]) == 3


def test_trace_tables_for_people(store_url: str) -> None:
    code, out, _ = run(store_url, "trace", "forward", RESIN_LOT)
    assert code == 0
    assert "12 node(s) reached" in out and "Device" in out and "Consignee" in out


def test_bad_input_gets_a_clear_message_and_exit_code(store_url: str) -> None:
    code, _, err = run(store_url, "trace", "forward", "(01)09506000134353(21)X")
    assert code == EXIT_INVALID and "check digit" in err
    code, _, err = run(store_url, "trace", "forward", "wo:NOPE")
    assert code == EXIT_NOT_FOUND and "wo:NOPE" in err
    code, _, err = run(store_url, "trace", "forward", D1, "--as-of", "yesterday")
    assert code == EXIT_INVALID and "ISO 8601" in err
    code, _, err = run(store_url, "trace", "forward", D1, "--kinds", "Gadget")
    assert code == EXIT_INVALID and "Gadget" in err
    code, _, err = run("postgres://x", "stats")
    assert code == EXIT_STORE and "unknown store URL scheme" in err


def test_show_cites_provenance(store_url: str) -> None:
    code, out, _ = run(store_url, "show", D1, "--json")
    assert code == 0
    data = json.loads(out)
    assert data["kind"] == "Device"
    assert data["versions"][0]["provenance"]["source"] == "test.csv"
    assert {e["type"] for e in data["edges_out"]} == {"PACKED_IN"}
    code, out, _ = run(store_url, "show", D1)
    assert code == 0 and "provenance" in out


def test_stats(store_url: str) -> None:
    code, out, _ = run(store_url, "stats", "--json")
    data = json.loads(out)
    assert code == 0 and data["nodes_by_kind"]["Device"] == 3 and data["batches"] == 1


def test_reading_a_store_that_does_not_exist_says_what_to_do(tmp_path: Path) -> None:
    code, _, err = run(f"sqlite:///{tmp_path / 'none.db'}", "trace", "forward", D1)
    assert code == EXIT_STORE and "migrate" in err


def test_a_second_writer_gets_a_clear_error_and_nothing_is_corrupted(store_url: str, tmp_path: Path) -> None:
    path = store_url.removeprefix("sqlite:///")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time\n"
            f"db = sqlite3.connect({path!r}, isolation_level=None)\n"
            "db.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "time.sleep(30)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        # The holder keeps the lock for 30 s: waiting it out would succeed, so failing here
        # shows the writer gave up after its busy timeout.
        code, _, err = run(store_url, "--busy-timeout", "0.5", "migrate")
        assert code == EXIT_STORE
        assert "another process is writing" in err
    finally:
        holder.kill()
        holder.wait()
    code, out, _ = run(store_url, "stats", "--json")
    assert code == 0 and json.loads(out)["nodes_by_kind"]["Device"] == 3


def test_copy_between_stores_is_verified_and_resumable(store_url: str, tmp_path: Path) -> None:
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    result = runner.invoke(app, ["copy", "--from", store_url, "--to", target])
    assert result.exit_code == 0, result.stderr
    assert "1 batch(es) copied" in result.stdout and "verified" in result.stdout
    again = runner.invoke(app, ["copy", "--from", store_url, "--to", target])
    assert again.exit_code == 0 and "0 batch(es) copied" in again.stdout and "1 already there" in again.stdout
    code, out, _ = run(target, "trace", "forward", D1, "--json")
    assert code == 0 and HOSPITAL_1 in {n["key"] for n in json.loads(out)["nodes"]}


def test_demo_loads_a_plant_and_its_tour_counts_are_the_traces(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    result = runner.invoke(app, ["--store", url, "demo", "--data-dir", str(tmp_path / "data")])
    assert result.exit_code == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "1. A supplier lot failed incoming inspection" in out and "5. Every fact cites its source record" in out
    manifest = json.loads((tmp_path / "data" / "small-0" / "manifest.json").read_text())
    lot = manifest["notable"]["failed_incoming_lot"]
    code, traced, _ = run(url, "trace", "forward", lot, "--kinds", "Device", "--json")
    assert code == 0 and f"{json.loads(traced)['total']} devices" in out
    again = runner.invoke(app, ["--store", url, "demo", "--data-dir", str(tmp_path / "data")])
    assert again.exit_code == 0 and "already loaded" in again.stdout


def _plant_with_a_bad_row(tmp_path: Path) -> tuple[Path, int]:
    from loaders.synthetic import generate_plant

    data = tmp_path / "plant"
    generate_plant(data, scale="small", seed=1)
    devices = data / "devices.csv"
    lines = devices.read_text().splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    row = lines[5].rstrip("\n").split(",")
    row[header.index("gtin")] = "09506000134353"  # wrong check digit
    lines[5] = ",".join(row) + "\n"
    devices.write_text("".join(lines))
    return data, 6  # the header is line 1


def test_a_bad_csv_row_rejects_the_whole_load_and_says_where(tmp_path: Path) -> None:
    data, line = _plant_with_a_bad_row(tmp_path)
    url = f"sqlite:///{tmp_path / 'strict.db'}"
    result = runner.invoke(app, ["--store", url, "load", str(data)])
    assert result.exit_code == 5
    assert f"devices.csv:{line} [gtin]" in result.stderr and "check digit" in result.stderr
    assert "nothing was loaded" in result.stderr
    code, out, _ = run(url, "stats", "--json")
    assert code == 0 and json.loads(out)["nodes"] == 0 and json.loads(out)["batches"] == 0


def test_partial_load_keeps_the_rest_and_reports_the_rejects(tmp_path: Path) -> None:
    data, line = _plant_with_a_bad_row(tmp_path)
    url = f"sqlite:///{tmp_path / 'partial.db'}"
    report = tmp_path / "rejects.csv"
    args = ["--store", url, "load", str(data), "--partial", "--reject-report", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 5 and "the rest was loaded" in result.stderr
    rows = report.read_text().splitlines()
    assert rows[0] == "source,line,field,reason,record" and len(rows) == 2
    assert rows[1].startswith(f"devices.csv,{line},gtin,")
    code, out, _ = run(url, "stats", "--json")
    assert code == 0
    loaded = json.loads(out)
    device_rows = len((data / "devices.csv").read_text().splitlines()) - 1
    assert loaded["nodes_by_kind"]["Device"] >= device_rows - 1
    again = runner.invoke(app, args)
    assert "already loaded" in again.stdout
    assert json.loads(run(url, "stats", "--json")[1]) == loaded
