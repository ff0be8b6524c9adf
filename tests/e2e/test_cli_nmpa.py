"""A Chinese-speaking recall manager's run: load a plant with a planted defect, switch to 中文,
trace a device, and write the 召回事件报告表 and the 召回计划 whose PDFs name every affected lot,
unit and consignee (read back with pypdf: the CID font's text extracts as Unicode). The same run
on the demo's Chinese-market plant starts from a scanned MA code."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
import reportlab
import yaml
from pypdf import PdfReader
from typer.testing import CliRunner

from cli.main import app
from loaders.synthetic import generate_plant
from loaders.synthetic.manifest import Defect, PlantManifest
from reports import nmpa as documents
from risk.nmpa import RecallClass
from schema.audit import AuditAction
from schema.identifiers import decode_key_value
from schema.kinds import NodeKind
from schema.model import TraceDirection, TraceQuery
from services import nmpa as nmpa_service
from services.app import Services
from services.audit import AuditTrail
from services.nmpa import recall_alert_key
from services.settings import Settings

FACTS = """\
nmpa:
  company:
    name: 示例医疗器械有限公司
    address: 上海市浦东新区示例路 1 号
    contact: 王经理
    phone: "021-00000000"
  products:
    part:FG-IVS: {name: 一次性使用输液器, registration_number: 国械注准20243140001, model: IVS-180}
  recall:
    reason: 鲁尔接头密封不良，可能渗漏
    measures: 停止销售和使用，退回生产企业
    handling: 退回后销毁
"""


@pytest.fixture(scope="module")
def plant(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PlantManifest, str]:
    root = tmp_path_factory.mktemp("nmpa")
    manifest = generate_plant(root / "plant", scale="small", seed=3, inject=[Defect()])
    store = f"sqlite:///{root / 'plant.db'}"
    loaded = CliRunner().invoke(app, ["--store", store, "load", str(root / "plant")])
    assert loaded.exit_code == 0, loaded.output
    (root / "facts.yaml").write_text(FACTS, encoding="utf-8")
    return root, manifest, store


def _lot_number(key: str) -> str:
    """The lot number a lot key carries (``…/10/{lot}``), as the 批号 column prints it."""
    return decode_key_value(key.split("/10/", 1)[1]) if "/10/" in key else key


def _text(pdf: Path) -> str:
    """The PDF's text without whitespace: table cells wrap keys anywhere."""
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in PdfReader(pdf).pages))


def test_a_recall_manager_gets_the_chinese_recall_documents(plant: tuple[Path, PlantManifest, str]) -> None:
    root, manifest, store = plant
    (truth,) = manifest.defects
    assert truth.devices
    runner = CliRunner()

    traced = runner.invoke(app, ["--store", store, "--lang", "zh", "trace", "backward", truth.devices[0]])
    assert traced.exit_code == 0, traced.output
    assert "反向追溯" in traced.output and truth.lot in traced.output

    out = root / "documents"
    written = runner.invoke(
        app,
        [
            *("--store", store, "--lang", "zh", "nmpa", "report", "event", "plan", "--from", truth.lot, "--class", "1"),
            *("--out", str(out), "--facts", str(root / "facts.yaml"), "--decided-at", "2024-03-08T09:00:00"),
        ],
    )
    assert written.exit_code == 0, written.output
    assert "一级召回" in written.output and "尚缺信息" in written.output  # consignees' licences are not given

    # What the documents must name, from the generator's ground truth and a plain trace, not from the scope.
    services = Services.build(Settings(store=store))
    try:
        reached = services.trace(
            TraceQuery(starts=(truth.lot,), direction=TraceDirection.FORWARD, kinds=frozenset({NodeKind.CONSIGNEE}))
        )
    finally:
        services.close()
    consignees = {n.key for n in reached.nodes if n.kind is NodeKind.CONSIGNEE}
    assert consignees

    event, plan = _text(out / "nmpa-event.pdf"), _text(out / "nmpa-plan.pdf")
    for text in (event, plan):
        assert "一次性使用输液器" in text and "国械注准20243140001" in text and "一级召回" in text
        for lot in truth.finished_lots:
            assert _lot_number(lot) in text, f"{lot} missing"
        for consignee in consignees:
            assert consignee in text, f"{consignee} missing"
    assert "医疗器械召回事件报告表" in event and "召回原因" in event and "鲁尔接头密封不良" in event
    for device in truth.devices:
        assert device in event, f"unit {device} missing from the event report"
    assert "召回计划" in plan and "退回后销毁" in plan and "5个工作日内" in plan
    assert "2024-03-15T09:00:00" in plan  # recall plan due 5 working days after a Friday decision

    rows = list(csv.reader((out / "nmpa-event.csv").read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][0] == "产品名称" and rows[0][5] == "批号"
    assert {r[5] for r in rows[1:]} == {_lot_number(lot) for lot in truth.finished_lots}
    data = json.loads((out / "nmpa-plan.json").read_text(encoding="utf-8"))
    assert data["kind"] == "plan" and data["recall_class"] == 1
    assert sum(lot["in_scope"] for lot in data["lots"]) == len(truth.devices)


def test_clocks_retention_and_adverse_events(plant: tuple[Path, PlantManifest, str]) -> None:
    root, _manifest, store = plant
    runner = CliRunner()
    clocks = runner.invoke(
        app, ["--lang", "zh", "nmpa", "clocks", "--class", "2", "--decided-at", "2024-03-01T09:00:00"]
    )
    assert clocks.exit_code == 0 and "二级召回" in clocks.output and "通知经营企业" in clocks.output
    as_json = runner.invoke(app, ["nmpa", "clocks", "--class", "二级", "--decided-at", "2024-03-01T09:00:00", "--json"])
    due = {c["kind"]: c["due"] for c in json.loads(as_json.output)}
    assert due["notify-consignees"] == "2024-03-04T09:00:00Z" and due["recall-plan"] == "2024-03-08T09:00:00Z"
    bad = runner.invoke(app, ["nmpa", "clocks", "--class", "4"])
    assert bad.exit_code == 2 and "recall class must be 1, 2 or 3" in bad.output

    check = runner.invoke(app, ["--store", store, "nmpa", "retention", "--on", "2030-01-01", "--json"])
    assert check.exit_code == 0, check.output
    result = json.loads(check.output)
    records = result["keep"] + result["may_purge"]
    assert records and all(r["consignee"] and r["quantity"] > 0 for r in records)
    # Devices expiring in 2027 are kept until 2029 (expiry + 2 years): all may be purged in 2030.
    assert all(r["keep_until"] < "2030-01-01" for r in result["may_purge"])
    later = json.loads(
        runner.invoke(app, ["--store", store, "nmpa", "retention", "--on", "2026-01-01", "--json"]).output
    )
    assert len(later["keep"]) == len(records)

    tracked = runner.invoke(
        app,
        ["--store", store, "nmpa", "report", "progress", "--from", "lot:NOPE", "--class", "1", "--out", str(root)],
    )
    assert tracked.exit_code == 3 and "lot:NOPE" in tracked.output


def test_tracking_a_recall_is_in_the_audit_trail(plant: tuple[Path, PlantManifest, str]) -> None:
    root, manifest, store = plant
    (truth,) = manifest.defects
    runner = CliRunner()
    command = [
        *("--store", store, "--actor", "rm:li", "nmpa", "report", "progress", "--from", truth.lot, "--class", "2"),
        *("--out", str(root / "tracked"), "--decided-at", "2024-03-01T09:00:00", "--track"),
    ]

    def recall_entries() -> list[dict[str, object]]:
        trail = AuditTrail.for_settings(Settings(store=store))
        try:
            entries = [json.loads(row.text) for row in trail.rows()]
            assert trail.verify().ok
        finally:
            trail.close()
        return [e for e in entries if e["subject"] == recall_alert_key(truth.lot)]

    assert recall_entries() == []
    first = runner.invoke(app, command)
    assert first.exit_code == 0, first.output
    (entry,) = recall_entries()
    assert entry["action"] == AuditAction.ALERT_TRANSITION and entry["actor"] == "rm:li"
    assert entry["new"] == "open" and entry["old"] is None
    details = entry["details"]
    assert isinstance(details, dict) and details["concerns"] == truth.lot and details["recall_class"] == 2
    printed = re.search(r"with (\d+) task", first.output)
    assert printed and len(details["tasks"]) == int(printed.group(1)) > 0

    again = runner.invoke(app, command)  # the recall is recorded once, and so is its opening
    assert again.exit_code == 0, again.output
    assert len(recall_entries()) == 1


# -- the demo's Chinese market: MA-coded devices ------------------------------------------------


@pytest.fixture(scope="module")
def ma_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PlantManifest, str]:
    """``tracegraph --lang zh demo``: the Chinese-market plant, generated, loaded and toured."""
    root = tmp_path_factory.mktemp("nmpa-demo")
    store = f"sqlite:///{root / 'demo.db'}"
    shown = CliRunner().invoke(app, ["--store", store, "--lang", "zh", "demo", "--data-dir", str(root / "data")])
    assert shown.exit_code == 0, shown.output
    assert "医院里的一件 MA 码产品" in shown.output and "召回事件报告表" in shown.output
    plant = root / "data" / "small-0-cn"
    return plant, PlantManifest.model_validate_json((plant / "manifest.json").read_bytes()), store


def _yymmdd(day: str) -> str:
    return day[2:4] + day[5:7] + day[8:10]


def test_a_recall_manager_recalls_ma_coded_devices_from_a_scanned_code(
    ma_demo: tuple[Path, PlantManifest, str], tmp_path: Path
) -> None:
    plant, manifest, store = ma_demo
    assert manifest.market == "cn" and manifest.nmpa is not None
    lot = manifest.notable.failed_incoming_lot
    services = Services.build(Settings(store=store))
    try:
        device = services.node(manifest.nmpa.ma_device, edge_limit=0).props
        facts = nmpa_service.load_facts(plant / manifest.nmpa.facts)
        scope = services.recall_scope(starts=[lot])
        dossier = services.nmpa_dossier(scope, facts, RecallClass.parse("2"))
    finally:
        services.close()

    # What the scanner reads off the label: DI, .S serial, .M made, .L lot, .E expiry.
    scanned = (
        f"{device['di']}.S{device['serial']}.M{_yymmdd(device['manufactured'])}"
        f".L{device['lot']}.E{_yymmdd(device['expiry'])}"
    )
    assert scanned == manifest.nmpa.ma_device_label
    runner = CliRunner()
    parsed = runner.invoke(app, ["--lang", "zh", "udi", "parse", "--json", scanned])
    assert parsed.exit_code == 0, parsed.output
    udi = json.loads(parsed.output)
    assert udi["issuer"] == "MA" and udi["key"] == manifest.nmpa.ma_device and udi["serial"] == device["serial"]
    assert udi["elements"]["check_status"] == "unverified"
    traced = runner.invoke(app, ["--store", store, "--lang", "zh", "trace", "backward", scanned])
    assert traced.exit_code == 0, traced.output
    assert "反向追溯" in traced.output and manifest.nmpa.ma_device in traced.output

    # The scope, from the service: MA-coded units in it, at Chinese consignees.
    ma_units = {d.key for d in scope.devices if d.key.startswith("ma/")}
    lots = {g.key for g in scope.by_lot}
    consignees = {c.consignee: c for c in dossier.consignees}
    assert ma_units and lots and {g.key for g in scope.by_consignee} <= consignees.keys()
    assert {c.country for c in consignees.values()} == {"CN"}

    completed = yaml.safe_load((plant / manifest.nmpa.facts).read_text(encoding="utf-8"))
    completed["nmpa"]["recall"] = {
        "reason": "鲁尔接头来料不合格",
        "measures": "停止销售和使用",
        "handling": "退回后销毁",
        "evaluation": "可能导致渗漏，健康危害程度中等",
    }
    (tmp_path / "facts.yaml").write_text(yaml.safe_dump(completed, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "documents"
    written = runner.invoke(
        app,
        [
            *("--store", store, "--lang", "zh", "nmpa", "report", "event", "plan", "--from", lot, "--class", "2"),
            *("--out", str(out), "--facts", str(tmp_path / "facts.yaml"), "--decided-at", "2024-03-08T09:00:00"),
        ],
    )
    assert written.exit_code == 0, written.output
    assert "二级召回" in written.output and "尚缺信息" not in written.output  # the demo's facts cover the rest
    assert f"PDF 字体：{documents.chinese_font()}" in written.output

    event, plan = _text(out / "nmpa-event.pdf"), _text(out / "nmpa-plan.pdf")
    assert "医疗器械召回事件报告表" in event and "召回计划" in plan
    for text in (event, plan):
        assert "一次性使用输液器" in text and "国械注进20243140001" in text
        for key in lots:
            assert _lot_number(key) in text, f"lot {key} missing"
        for key, line in consignees.items():
            assert key in text and line.name and line.name in text, f"consignee {key} missing"
            assert line.licence and line.licence in text, f"licence of {key} missing"
    assert "MA.156.M0.100888.100001017" in event
    for unit in ma_units:
        assert unit in event, f"MA-coded unit {unit} missing from the event report"


def test_a_font_without_chinese_glyphs_is_refused(ma_demo: tuple[Path, PlantManifest, str], tmp_path: Path) -> None:
    _plant, manifest, store = ma_demo
    latin = Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"  # ReportLab's own Latin font
    refused = CliRunner().invoke(
        app,
        [
            *("--store", store, "nmpa", "report", "event", "--from", manifest.notable.failed_incoming_lot),
            *("--class", "2", "--out", str(tmp_path), "--font", str(latin)),
        ],
    )
    assert refused.exit_code == 2 and "has no glyphs for Chinese" in refused.output
    assert not list(tmp_path.iterdir())
