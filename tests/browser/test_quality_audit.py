"""The quality views and the audit trail in a real browser, checked against the API they draw
from: the supplier scorecard sorts, the SPC chart of the plant's drifting machine draws every
sample with its broken run rule marked, and the audit viewer lists the load and its chain."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.browser.conftest import Served, shoot

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]


def test_scorecard_lists_every_supplier_and_sorts_by_a_column(page: Any, served: Served) -> None:
    scores = served.get("/api/v1/suppliers/scorecard")
    assert scores, "the plant's suppliers have received lots"
    page.goto("/#/quality")
    table = page.get_by_test_id("scorecard")
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(scores))
    grades = [g.upper() for g in rows.locator(".grade").all_inner_texts()]
    assert grades == sorted(grades, reverse=True), "worst grade first"
    table.locator("button[data-sort='lots']").focus()
    page.keyboard.press("Enter")  # sorting works from the keyboard
    expect(table.locator("th[aria-sort]")).to_have_attribute("aria-sort", "descending")
    lots = [int(x.replace(",", "")) for x in rows.locator("td:nth-child(3)").all_inner_texts()]
    assert lots == sorted((s["lots"] for s in scores), reverse=True)
    assert "sort=lots" in page.url


def test_spc_chart_draws_its_samples_and_marks_the_broken_rule(page: Any, served: Served) -> None:
    charts = served.get("/api/v1/spc/charts")
    broken = next(c for c in charts if c["breaks"])  # the plant has a machine out of control
    chart = served.get("/api/v1/spc/chart", equipment=broken["equipment"], parameter=broken["parameter"])
    page.goto("/#/quality?" + urlencode({"equipment": broken["equipment"], "parameter": broken["parameter"]}))
    svg = page.get_by_test_id("spc-chart")
    expect(svg.locator("circle.sample")).to_have_count(len(chart["points"]))
    flagged = {i for b in chart["breaks"] for i in range(b["start"], b["end"] + 1)}
    expect(svg.locator("circle.violation")).to_have_count(len(flagged))
    indices = {int(i) for i in svg.locator("circle.violation").evaluate_all("els => els.map(e => e.dataset.index)")}
    assert indices == flagged
    expect(svg.locator("rect.break-band")).to_have_count(len(chart["breaks"]))
    listed = page.get_by_test_id("spc-breaks").locator("tbody tr")
    expect(listed).to_have_count(len(chart["breaks"]))
    first = chart["breaks"][0]
    expect(listed.first).to_contain_text(f"R{first['rule']}")
    expect(listed.first).to_contain_text(f"#{first['start']}")
    page.get_by_test_id("scorecard").scroll_into_view_if_needed()
    shoot(page, "quality", full_page=True)
    # Another rule system is another reading of the same samples.
    page.select_option("#spc-rules", "western-electric")
    expect(page).to_have_url(re.compile(r"rules=western-electric"))
    expect(page.get_by_test_id("spc-chart").locator("circle.sample")).to_have_count(len(chart["points"]))


def test_audit_viewer_lists_the_load_and_verifies_the_chain(page: Any, served: Served) -> None:
    trail = served.get("/api/v1/audit", action="load")
    assert trail["entries"], "loading the plant wrote the audit trail"
    page.goto("/#/audit")
    expect(page.get_by_test_id("chain-status")).to_have_class("notice chain chain-ok")
    entries = page.get_by_test_id("audit-entries").locator("tbody tr[data-action='load']")
    expect(entries).to_have_count(len(trail["entries"]))
    load = trail["entries"][0]
    row = entries.first
    expect(row).to_contain_text(load["actor"])
    expect(row).to_contain_text(load["subject"])
    row.locator("details summary").click()  # the new value: the load's counts
    expect(row.locator("pre")).to_contain_text(f'"records": {load["new"]["records"]}')
    shoot(page, "audit")
    # A filter on the actor that nobody matches leaves nothing.
    page.fill("#audit-actor", "nobody-by-this-name")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"actor=nobody-by-this-name"))
    expect(page.get_by_test_id("audit-entries")).to_have_count(0)


def test_overview_key_figures_match_the_api(page: Any, served: Served) -> None:
    open_alerts = served.get("/api/v1/alerts", state="open")
    loads = served.get("/api/v1/audit", action="load")["entries"]
    page.goto("/")
    card = page.get_by_test_id("kpi-alerts")
    expect(card.locator("h3")).to_contain_text(str(len(open_alerts)))
    for grade in {a["grade"] for a in open_alerts}:
        total = sum(a["grade"] == grade for a in open_alerts)
        expect(card.locator(f"tr[data-grade='{grade}'] td").last).to_have_text(str(total))
    rows = page.get_by_test_id("kpi-loads").locator("tbody tr")
    expect(rows).to_have_count(min(5, len(loads)))
    latest = loads[-1]["new"]
    expect(rows.first.locator("td").last).to_have_text(str(latest["rejected"]))
    expect(page.get_by_test_id("kpi-trace")).to_contain_text(served.notable.finished_lot)
