"""``udi parse``, ``load --mapping``, ``mapping check``, ``dictionary`` and ``quality`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.context import EXIT_INVALID, EXIT_REJECTED
from cli.main import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
MAPPINGS = ROOT / "mappings"
ERP_EXPORT = str(MAPPINGS / "examples" / "erp-batch-where-used.csv")
ERP_MAPPING = str(MAPPINGS / "erp-batch-where-used.yaml")

#: (01) GTIN, (17) expiry 2025-01-31, (10) lot L1 — a variable-length value, so GS — (21) S/1.
ELEMENT_STRING = "0109506000134352172501311" + "0L1{GS}21S/1"


def run(*args: str, store: Path | None = None, stdin: str | None = None) -> tuple[int, str, str]:
    prefix = ["--store", f"sqlite:///{store}"] if store else []
    result = runner.invoke(app, [*prefix, *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


# -- udi parse ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gs", ["\x1d", "<GS>", "\u241d"])
def test_udi_parse_json_is_the_udi_parse_model(gs: str) -> None:
    code, out, _ = run("udi", "parse", ELEMENT_STRING.format(GS=gs), "--json")
    assert code == 0
    data = json.loads(out)
    assert list(data) == [
        "valid",
        "issuer",
        "gtin",
        "lic",
        "product_code",
        "di",
        "lot",
        "serial",
        "expiry",
        "manufactured",
        "quantity",
        "key",
        "errors",
        "warnings",
        "readings",
        "elements",
    ]
    assert data["valid"] is True and data["issuer"] == "GS1" and data["errors"] == []
    assert (data["gtin"], data["lot"], data["serial"], data["expiry"]) == ("09506000134352", "L1", "S/1", "2025-01-31")
    assert data["key"] == "01/09506000134352/21/S%2F1"
    assert data["elements"] == {"01": "09506000134352", "17": "250131", "10": "L1", "21": "S/1"}


def test_udi_parse_reads_stdin_as_a_scanner_types_it() -> None:
    code, out, _ = run("udi", "parse", "-", "--json", stdin=ELEMENT_STRING.format(GS="\x1d") + "\r\n")
    assert code == 0 and json.loads(out)["serial"] == "S/1"
    # A HIBCC primary and secondary symbol, one per line.
    code, out, _ = run("udi", "parse", "-", "--json", stdin="+A99912345/$$52001510X3/16D20111212/S77DEFG457\n")
    assert code == 0 and json.loads(out)["key"] == "hibc/A99912345/21/77DEFG45"


def test_udi_parse_prints_a_table_for_people() -> None:
    code, out, _ = run("udi", "parse", "(01)09506000134352(10)L1(17)250100")
    assert code == 0
    assert "01/09506000134352/10/L1" in out and "2025-01-31" in out and "GS1" in out


def test_invalid_udi_exits_2_with_the_reason_on_stderr() -> None:
    code, out, err = run("udi", "parse", "(01)09506000134353(21)X", "--json")
    assert code == EXIT_INVALID
    assert json.loads(out)["valid"] is False
    assert "GTIN 09506000134353 has check digit 3, expected 2" in err
    code, _, err = run("udi", "parse", "(01)09506000134352(17)250230")
    assert code == EXIT_INVALID and "not a valid date" in err
    code, _, err = run("udi", "parse", "AHM1234")
    assert code == EXIT_INVALID and "AHM codes are not supported" in err


# -- load --mapping and mapping check -----------------------------------------------------------


def test_load_with_a_mapping_is_one_batch_and_idempotent(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    code, out, err = run("load", ERP_EXPORT, "--mapping", ERP_MAPPING, store=store)
    assert code == 0, err
    assert "loaded 5 records" in out and "5 edges added" in out
    code, out, _ = run("load", ERP_EXPORT, "--mapping", ERP_MAPPING, store=store)
    assert code == 0 and "already loaded" in out
    code, out, _ = run(
        "load",
        str(MAPPINGS / "examples" / "mes-work-order-genealogy.xlsx"),
        "--mapping",
        str(MAPPINGS / "mes-work-order-output.yaml"),
        store=store,
    )
    assert code == 0 and "loaded 4 records" in out
    code, out, _ = run("show", "01/07612345000107/10/L240305-01", "--json", store=store)
    assert code == 0 and "mes-work-order-genealogy.xlsx!Genealogy" in out


def test_load_refuses_bad_mappings_and_unmapped_spreadsheets(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsource_system: erp\ntarget: consumption.csv\ncolumns:\n  lot: {colum: Batch}\n")
    code, _, err = run("load", ERP_EXPORT, "--mapping", str(bad), store=store)
    assert code == EXIT_INVALID and "bad.yaml:5: columns.lot.colum: unknown option" in err
    code, _, err = run("load", ERP_EXPORT, "--mapping", ERP_MAPPING, "--format", "csv", store=store)
    assert code == EXIT_INVALID and "leave --format out" in err
    code, _, err = run("load", str(MAPPINGS / "examples" / "supplier-coa.xlsx"), store=store)
    assert code == EXIT_REJECTED and "add --mapping M.yaml" in err


def test_mapping_check_is_a_dry_run(tmp_path: Path) -> None:
    store = tmp_path / "never.db"
    code, out, _ = run("mapping", "check", ERP_EXPORT, "--mapping", ERP_MAPPING, "--json", store=store)
    assert code == 0
    data = json.loads(out)
    assert data["rows"] == {"read": 5, "would_load": 5, "rejected": 0, "skipped": 1}
    assert data["target"] == "consumption.csv" and data["edges_by_type"] == {"CONSUMED_BY": 5}
    assert data["rejects"] == [] and not store.exists()

    code, out, _ = run("mapping", "check", ERP_EXPORT, "--mapping", ERP_MAPPING)
    assert code == 0 and "5 would load" in out and "CONSUMED_BY edge" in out


def test_mapping_check_lists_every_row_that_would_be_rejected(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    lines = Path(ERP_EXPORT).read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("1.250,0;G", "1.250,0;LB")  # line 5
    lines[5] = lines[5].replace("04.03.2024", "2024-03-04")  # line 6
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = run("mapping", "check", str(export), "--mapping", ERP_MAPPING, "--json")
    assert code == EXIT_REJECTED
    data = json.loads(out)
    assert data["rows"] == {"read": 5, "would_load": 3, "rejected": 2, "skipped": 1}
    assert [(r["line"], r["field"]) for r in data["rejects"]] == [(5, "UoM"), (6, "Posting Date, Time")]
    code, _, err = run("mapping", "check", str(export), "--mapping", ERP_MAPPING)
    assert code == EXIT_REJECTED and "export.csv:5 [UoM]: unknown unit 'LB'" in err


def test_mapping_check_reports_every_mapping_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsource_system: erp\ntarget: consumption.csv\ncolumns:\n  lot: Batch\n")
    code, out, err = run("mapping", "check", ERP_EXPORT, "--mapping", str(bad), "--json")
    assert code == EXIT_INVALID
    problems = json.loads(out)["problems"]
    assert {p["message"] for p in problems} >= {"consumption.csv requires column 'quantity': map it"}
    assert problems[0]["path"] == "columns" and problems[0]["line"] == 5
    assert "not valid (3 problem(s))" in err


# -- dictionary and quality ----------------------------------------------------------------------


def test_dictionary_prints_the_committed_document_and_a_json_schema() -> None:
    code, out, _ = run("dictionary", "--format", "md")
    assert code == 0 and out == (ROOT / "docs" / "reference" / "data-dictionary.md").read_text(encoding="utf-8")
    code, out, _ = run("dictionary", "--format", "json-schema")
    assert code == 0 and "consumption.csv" in json.loads(out)["$defs"]
    code, _, err = run("dictionary", "--format", "html")
    assert code == EXIT_INVALID and "md, json-schema" in err


def test_quality_reports_findings_and_scores(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    assert run("load", ERP_EXPORT, "--mapping", ERP_MAPPING, store=store)[0] == 0
    code, out, _ = run("quality", "--json", store=store)
    assert code == 0
    data = json.loads(out)
    assert data["counts"] == {"consumed_not_received": 3}
    assert data["sources"] == [
        {
            "source_system": "erp",
            "source": "erp-batch-where-used.csv",
            "records": 5,
            "affected_records": 5,
            "findings": 3,
            "score": 0,
        }
    ]
    assert data["findings"][0]["records"][0]["source"] == "erp-batch-where-used.csv"
    code, out, _ = run("quality", store=store)
    assert code == 0 and "consumed_not_received: 3 finding(s)" in out and "never received" in out
    code, out, _ = run("quality", "--source", "lims", "--json", store=store)
    assert code == 0 and json.loads(out) == {"counts": {}, "sources": [], "findings": []}


# -- load: EPCIS element order -------------------------------------------------------------------

JUMBLED_EPCIS = ROOT.parent / "shared" / "data" / "epcis" / "openepcis" / "2.0" / "EPCIS" / "XML" / "Capture"
JUMBLED_EPCIS = JUMBLED_EPCIS / "Documents" / "JumbledFieldsOrder.xml"


@pytest.mark.skipif(not JUMBLED_EPCIS.exists(), reason="the shared EPCIS reference data is not beside the repository")
def test_load_refuses_jumbled_epcis_order_unless_asked(tmp_path: Path) -> None:
    store = tmp_path / "g.db"
    code, _, err = run("load", str(JUMBLED_EPCIS), store=store)
    assert code == EXIT_REJECTED and "--epcis-any-order" in err and "JumbledFieldsOrder.xml" in err
    code, out, _ = run("stats", "--json", store=store)
    assert code == 0 and json.loads(out)["nodes"] == 0
    code, out, err = run("load", str(JUMBLED_EPCIS), "--epcis-any-order", store=store)
    assert code == 0, err
    code, out, _ = run("stats", "--json", store=store)
    assert json.loads(out)["nodes"] > 0
    code, out, _ = run("load", str(JUMBLED_EPCIS), "--epcis-any-order", store=store)
    assert code == 0 and "already loaded" in out
