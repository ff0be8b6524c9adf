"""The dashboard in a real browser, checked against the API it draws from: search lands on a
node's page, the graph draws the trace aggregated as the UI promises, a selection highlights
its explaining path, and the recall export downloads every row the trace reaches."""

from __future__ import annotations

import csv
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.conftest import TABLET, Served, shoot

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or, under CI, fails) and says why
    expect = None


def route(*parts: str) -> str:
    """A dashboard address: ``/#/graph/forward/<key>``, each part URL-encoded whole."""
    return "/#/" + "/".join(quote(p, safe="") for p in parts)


def drawn_nodes(trace: dict[str, Any], aggregate_over: int) -> int:
    """What the graph draws before anything is expanded (web/js/graph/model.js): every start,
    and per (level, kind) group its members one by one, or one aggregate node when there are
    more than ``aggregate_over`` of them."""
    starts = set(trace["starts"])
    groups = Counter((n["degree"], n["kind"]) for n in trace["nodes"] if n["key"] not in starts)
    return len(starts) + sum(n if n <= aggregate_over else 1 for n in groups.values())


def open_graph(page: Any, direction: str, key: str) -> Any:
    page.goto(route("graph", direction, key))
    svg = page.locator("svg.graph[data-ready='true']")
    expect(svg).to_be_visible()
    return svg


def test_overview_shows_what_the_store_holds(page: Any, served: Served) -> None:
    stats = served.get("/api/v1/stats")
    page.goto("/")
    expect(page.get_by_test_id("stat-nodes")).to_contain_text(f"{stats['nodes']:,}")
    expect(page.get_by_test_id("stat-devices")).to_contain_text(f"{stats['nodes_by_kind']['Device']:,}")
    page.keyboard.press("/")  # the shortcut to the search box
    expect(page.locator("#q")).to_be_focused()
    shoot(page, "overview")


def test_a_scanned_barcode_lands_on_the_lot_page_with_its_provenance(page: Any, served: Served) -> None:
    lot = served.notable.finished_lot  # 01/{GTIN}/10/{lot}
    _, gtin, _, lot_number = lot.split("/")
    page.goto("/")
    page.keyboard.press("/")
    page.keyboard.type(f"(01){gtin}(10){lot_number}")  # as a scanner types a GS1-128 label
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("node-key")).to_have_text(lot)

    view = served.get(f"/api/v1/nodes/{lot}")
    source = view["versions"][0]["provenance"]
    provenance = page.locator("#provenance")
    expect(provenance).to_contain_text(source["source_system"])
    expect(provenance).to_contain_text(source["source"])
    expect(provenance).to_contain_text(str(source["line"]))
    expect(provenance.locator(f"code[title='{source['record_hash']}']")).to_be_visible()
    expect(page.locator("#h-evidence + div")).not_to_contain_text("Loading")
    shoot(page, "node-page")

    # The raw element string of the same label, and the bare lot number, find the same lot.
    for text in (f"01{gtin}10{lot_number}", lot_number):
        page.goto("/")
        page.fill("#q", text)
        page.press("#q", "Enter")
        expect(page.get_by_test_id("node-key")).to_have_text(lot)


def test_a_digital_link_and_a_supplier_code_land_on_their_pages(page: Any, served: Served) -> None:
    device = served.notable.finished_device  # 01/{GTIN}/21/{serial}
    supplier = served.notable.failed_incoming_supplier  # supplier:{code}
    for text, key in ((f"https://id.gs1.org/{device}", device), (supplier.split(":", 1)[1], supplier)):
        page.goto("/")
        page.fill("#q", text)
        page.press("#q", "Enter")
        expect(page.get_by_test_id("node-key")).to_have_text(key)


def test_the_forward_impact_graph_draws_the_trace_aggregated(page: Any, served: Served) -> None:
    lot = served.notable.failed_incoming_lot
    page.goto(route("node", lot))
    page.get_by_role("link", name="Forward impact").click()
    svg = page.locator("svg.graph[data-ready='true']")
    expect(svg).to_be_visible()

    trace = served.get("/api/v1/trace/forward", start=lot)
    assert not trace["truncated"]
    over = int(svg.get_attribute("data-aggregate-over"))
    expected = drawn_nodes(trace, over)
    assert expected < trace["total"] + 1, "the small plant should have a group to aggregate"
    expect(page.locator("svg.graph .node")).to_have_count(expected)
    assert svg.get_attribute("data-total") == str(trace["total"])
    expect(page.get_by_test_id("trace-total")).to_have_text(f"{trace['total']:,}")
    shoot(page, "impact-graph")

    # Expanding the devices draws up to 200 of them one by one; the rest stay aggregated.
    devices = sum(1 for n in trace["nodes"] if n["kind"] == "Device")
    page.locator("svg.graph .node.aggregate[data-kind='Device']").click()
    page.get_by_role("button", name="Draw 200").click()
    still_aggregated = 1 if devices > 200 else 0
    expect(page.locator("svg.graph .node")).to_have_count(expected - 1 + min(200, devices) + still_aggregated)


def test_selecting_a_node_highlights_its_explaining_path(page: Any, served: Served) -> None:
    lot = served.notable.failed_incoming_lot
    trace = served.get("/api/v1/trace/forward", start=lot)
    svg = open_graph(page, "forward", lot)

    # The consignee farthest away: its path crosses aggregated devices and containers.
    consignee = max((n for n in trace["nodes"] if n["kind"] == "Consignee"), key=lambda n: n["degree"])
    page.locator(f"svg.graph .node[data-key='{consignee['key']}']").click()
    hops = len(consignee["path"])
    expect(page.locator("svg.graph .node.on-path")).to_have_count(hops)
    expect(page.locator("svg.graph .edge.on-path")).to_have_count(hops - 1)
    expect(page.get_by_test_id("path").locator("li")).to_have_count(hops)
    expect(page.get_by_test_id("selected-key")).to_have_text(consignee["key"])
    shoot(page, "path-highlight")

    # Find a device by its serial: it is inside the aggregate, which lies on its path.
    device = next(n for n in trace["nodes"] if n["kind"] == "Device")
    page.fill("#find", device["key"].rsplit("/", 1)[1])
    page.press("#find", "Enter")
    expect(page.get_by_test_id("selected-key")).to_have_text(device["key"])
    expect(page.locator("svg.graph .node.on-path")).to_have_count(len(device["path"]))

    # Keyboard: Escape clears; Tab reaches nodes and Enter selects one.
    page.keyboard.press("Escape")
    expect(page.locator("svg.graph .node.on-path")).to_have_count(0)
    first = page.locator(f"svg.graph .node[data-key='{lot}']")
    first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("selected-key")).to_have_text(lot)
    expect(svg).to_be_visible()


def test_the_recall_view_counts_and_exports_the_complete_list(page: Any, served: Served) -> None:
    lot = served.notable.failed_incoming_lot
    trace = served.get("/api/v1/trace/forward", start=lot)
    counts = Counter(n["kind"] for n in trace["nodes"])
    page.goto(route("recall", lot))
    expect(page.get_by_test_id("count-total")).to_have_text(f"{trace['total']:,}")
    expect(page.get_by_test_id("count-Device")).to_have_text(f"{counts['Device']:,}")
    expect(page.locator("[data-testid='consignees'] tbody tr")).to_have_count(counts["Consignee"])
    # Devices per consignee arrive one trace at a time; wait until every cell has its count.
    expect(page.locator("[data-testid='consignees'] td[data-testid='devices']", has_text="…")).to_have_count(0)
    shoot(page, "recall")

    with page.expect_download() as info:
        page.get_by_test_id("export-csv").click()
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    with open(download.path(), newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["degree", "kind", "key", "via", "path"]
    assert len(rows) - 1 == trace["total"]
    assert {r[2] for r in rows[1:]} == {n["key"] for n in trace["nodes"]}

    with page.expect_download() as info:
        page.get_by_test_id("export-devices").click()
    with open(info.value.path(), newline="", encoding="utf-8") as f:
        assert sum(1 for _ in csv.reader(f)) - 1 == counts["Device"]


def test_the_backward_genealogy_fits_a_tablet(browser: Any, served: Served) -> None:
    context = browser.new_context(viewport=TABLET, base_url=served.url, has_touch=True)
    try:
        page = context.new_page()
        device = served.notable.finished_device
        trace = served.get("/api/v1/trace/backward", start=device)
        svg = open_graph(page, "backward", device)
        over = int(svg.get_attribute("data-aggregate-over"))
        expect(page.locator("svg.graph .node")).to_have_count(drawn_nodes(trace, over))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
        shoot(page, "tablet-genealogy")
    finally:
        context.close()


def test_a_start_window_limits_what_a_machine_reached(page: Any, served: Served) -> None:
    """A leak tester found out of tolerance: only what it tested since its last good calibration."""
    n = served.notable

    def inspected_at(inspection: str) -> str:
        view = served.get(f"/api/v1/nodes/{inspection}")
        return next(e["at"] for e in view["edges_out"] if e["type"] == "INSPECTED")

    window = {"from": inspected_at(n.previous_calibration), "to": inspected_at(n.out_of_tolerance_calibration)}
    trace = served.get("/api/v1/trace/forward", start=n.equipment, **window)
    everything = served.get("/api/v1/trace/forward", start=n.equipment, limit=0)
    assert trace["total"] < everything["total"]

    page.goto(route("graph", "forward", n.equipment))
    expect(page.get_by_test_id("trace-total")).to_have_text(f"{everything['total']:,}")
    page.locator("details.window summary").click()
    page.fill("#window-from", window["from"][:16])  # datetime-local: minutes, UTC as everywhere
    page.fill("#window-to", window["to"][:16])
    page.get_by_role("button", name="Apply").click()
    expected = served.get("/api/v1/trace/forward", start=n.equipment, **{k: v[:16] for k, v in window.items()})
    expect(page.get_by_test_id("trace-total")).to_have_text(f"{expected['total']:,}")
    svg = page.locator("svg.graph[data-ready='true']")
    expect(page.locator("svg.graph .node")).to_have_count(
        drawn_nodes(expected, int(svg.get_attribute("data-aggregate-over")))
    )
    shoot(page, "start-window")
