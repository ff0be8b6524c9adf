"""The recall scope and the alerts board in a real browser, checked against the API: the
threshold slider redraws the scope the API computes at that threshold, the CSV holds the API's
devices, and a task moves through every state on the board with the fields each step needs."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.conftest import LAPTOP, TABLET, TIMEOUT_MS, Served, shoot

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]

# A start that is bad with probability 0.7 whose contamination carries over two runs: its
# devices then have several probabilities, so the threshold changes the scope.
PRIOR = 0.7
CARRYOVER = 2
REFUSED = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")


@pytest.fixture
def board_page(browser: Any, served: Served) -> Iterator[tuple[Any, list[int]]]:
    """A page like conftest's ``page``, whose console may show the refusals the test provokes:
    it yields the page and the list the test fills with the statuses it expects."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, base_url=served.url)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    expected: list[int] = []
    pg.on("pageerror", lambda error: errors.append(str(error)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield pg, expected
    finally:
        context.close()
    unexpected = [e for e in errors if not ((m := REFUSED.match(e)) and int(m.group(1)) in expected)]
    assert not unexpected, f"the page logged errors: {unexpected}"


def scope_of(served: Served, start: str, threshold: float) -> Any:
    return served.get("/api/v1/recall", start=start, threshold=threshold, probability=PRIOR, carryover=CARRYOVER)


def wait_for_scope(page: Any, threshold: str) -> Any:
    section = page.get_by_test_id("scope")
    expect(section).to_have_attribute("data-threshold", threshold)
    expect(section).to_have_attribute("aria-busy", "false")
    return section


def test_the_threshold_slider_redraws_the_scope_the_api_computes(page: Any, served: Served) -> None:
    lot = served.notable.failed_incoming_lot
    at_half, at_08 = scope_of(served, lot, 0.5), scope_of(served, lot, 0.8)
    assert len(at_half["devices"]) > len(at_08["devices"]) > 0, "the plant should give the slider something to do"

    page.goto(f"/#/recall/{quote(lot, safe='')}?probability={PRIOR}&carryover={CARRYOVER}")
    wait_for_scope(page, "0.5")
    expect(page.get_by_test_id("scope-devices")).to_have_text(f"{len(at_half['devices']):,}")
    expect(page.get_by_test_id("scope-shipped")).to_have_text(f"{len(at_half['shipped']):,}")
    expect(page.get_by_test_id("scope-on-hand")).to_have_text(f"{len(at_half['on_hand']):,}")

    # The keyboard moves the slider by its step: six steps of 0.05 up to 0.80.
    slider = page.locator("#scope-threshold")
    slider.focus()
    for _ in range(6):
        page.keyboard.press("ArrowRight")
    expect(page.get_by_test_id("scope-threshold")).to_have_text("0.80")
    wait_for_scope(page, "0.8")
    expect(page.get_by_test_id("scope-devices")).to_have_text(f"{len(at_08['devices']):,}")
    assert "threshold=0.8" in page.url  # the address keeps the setting: reload, bookmark, share

    # Counts by product lot and by consignee: the API's groups, row for row.
    for testid, groups in (("scope-by-lot", at_08["by_lot"]), ("scope-by-consignee", at_08["by_consignee"])):
        rows = page.get_by_test_id(testid).locator("tbody tr")
        expect(rows).to_have_count(min(len(groups), 50))
        for group in groups[:5]:
            row = page.get_by_test_id(testid).locator(f"tr[data-key='{group['key']}']")
            expect(row.get_by_test_id("group-count")).to_have_text(f"{group['count']:,}")

    # The sensitivity chart: one point per row of the API's table; a point sets the threshold.
    points = page.get_by_test_id("sensitivity").locator("circle.point")
    expect(points).to_have_count(len(at_08["sensitivity"]))
    for i, row in enumerate(at_08["sensitivity"]):
        assert int(points.nth(i).get_attribute("data-devices")) == row["devices"]
    page.get_by_test_id("sensitivity").locator("circle.point[data-threshold='0.7']").click()
    wait_for_scope(page, "0.7")
    at_07 = scope_of(served, lot, 0.7)
    expect(page.get_by_test_id("scope-devices")).to_have_text(f"{len(at_07['devices']):,}")
    expect(page.locator("#scope-threshold")).to_have_value("0.7")
    shoot(page, "recall-scope")
    page.set_viewport_size(TABLET)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the scope scrolls sideways"
    page.set_viewport_size(LAPTOP)

    # The CSV is the recall list at the threshold on screen: the API's devices, one row each.
    with page.expect_download() as info:
        page.get_by_test_id("scope-csv").click()
    download = info.value
    assert download.suggested_filename.endswith("-p0.70.csv")
    with open(download.path(), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["device"] for r in rows] == [d["key"] for d in at_07["devices"]]
    assert [float(r["probability"]) for r in rows] == [d["probability"] for d in at_07["devices"]]
    assert [r["consignee"] or None for r in rows] == [d["consignee"] for d in at_07["devices"]]
    assert [r["path"].split(" > ") for r in rows] == [d["path"] for d in at_07["devices"]]

    # The recall report takes the start as certainly bad: offered once the settings say so.
    expect(page.get_by_test_id("report-zip")).to_be_disabled()
    page.fill("#scope-probability", "1")
    page.press("#scope-probability", "Enter")
    page.fill("#scope-carryover", "0")
    page.press("#scope-carryover", "Enter")
    certain = served.get("/api/v1/recall", start=lot, threshold=0.7)
    wait_for_scope(page, "0.7")
    expect(page.get_by_test_id("scope-devices")).to_have_text(f"{len(certain['devices']):,}")
    expect(page.get_by_test_id("report-zip")).to_be_enabled()
    with page.expect_download(timeout=120_000) as info:
        page.get_by_test_id("report-zip").click()
    with zipfile.ZipFile(info.value.path()) as package:
        report = json.loads(package.read("reports/recall-report.json"))
        assert "reports/recall-report.pdf" in package.namelist()
    assert report["query"] == {"starts": [lot], "signals": [], "threshold": 0.7, "as_of": None}
    assert report["summary"]["devices"] == len(certain["devices"])
    assert report["summary"]["shipped"] == len(certain["shipped"])


def test_a_task_moves_through_its_states_on_the_board(board_page: tuple[Any, list[int]], served: Served) -> None:
    page, refusals = board_page
    lot = served.notable.failed_incoming_lot
    alerts = served.get("/api/v1/alerts", state="open")
    alert = next(a for a in alerts if a["node"] == lot)
    task_key = alert["tasks"][0]
    assert served.get(f"/api/v1/tasks/{task_key}")["state"] == "open"

    page.goto("/#/alerts")
    for grade in ("recall-candidate", "critical", "warning", "watch"):
        column = page.locator(f"section.column[data-grade='{grade}']")
        expect(column.locator("article.alert-card")).to_have_count(sum(1 for a in alerts if a["grade"] == grade))
    card = page.locator(f"section.column[data-grade='{alert['grade']}'] article[data-key='{alert['key']}']")
    expect(card.get_by_test_id("due").first).to_have_text(re.compile(r"^(in|overdue by) \d+ (d|h|min)"))
    task = card.locator(f"[data-task='{task_key}']")

    # The board offers exactly the moves the server allows, with the fields it requires.
    moves = page.evaluate("import('/web/js/views/alerts.js').then((m) => m.MOVES)")
    from risk.alerts import TRANSITIONS

    assert {(frm, m["to"]): tuple(m["fields"]) for frm, ms in moves.items() for m in ms} == {
        (a.value, b.value): fields for (a, b), fields in TRANSITIONS.items()
    }

    def move(to: str, fields: dict[str, str], *, expect_state: str | None = None) -> None:
        task.locator(f"button[data-move='{to}']").click()
        form = task.locator(f"form.move-form[data-to='{to}']")
        for name, value in fields.items():
            field = form.locator(f"[name='{name}']")
            if field.evaluate("(el) => el.tagName") == "SELECT":
                field.select_option(value)
            else:
                field.fill(value)
        form.locator("button[type=submit]").click()
        if expect_state:
            expect(task).to_have_attribute("data-state", expect_state)
            assert served.get(f"/api/v1/tasks/{task_key}")["state"] == expect_state

    move("investigating", {}, expect_state="investigating")

    # A blank root cause passes the browser's `required` but not the server: its 422 is shown.
    refusals.append(422)
    move("action", {"root_cause": "   ", "action": "capa"})
    error = task.locator("form.move-form [role=alert]")
    expect(error).to_contain_text("root_cause")
    expect(error).to_contain_text("missing_field")
    assert served.get(f"/api/v1/tasks/{task_key}")["state"] == "investigating"
    shoot(page, "alerts-board")
    task.locator("form.move-form [name='root_cause']").fill("Crack pressure out of specification, released by mistake")
    task.locator("form.move-form button[type=submit]").click()
    expect(task).to_have_attribute("data-state", "action")
    records = served.get(f"/api/v1/tasks/{task_key}")["records"]
    assert records and records[0].startswith("capa:")
    expect(task.locator(f"a[href*='{quote(records[0], safe='')}']")).to_be_visible()

    move("verification", {"disposition": "Shipped units recalled; stock scrapped"}, expect_state="verification")
    shoot(page, "alerts-board-task")

    # Closing the task closes its alert: it leaves the board of open alerts.
    move("closed", {"effectiveness_check": "No further failures in 3 lots"})
    expect(page.locator(f"article[data-key='{alert['key']}']")).to_have_count(0)
    assert served.get(f"/api/v1/alerts/{alert['key']}")["state"] == "closed"
    done = served.get(f"/api/v1/tasks/{task_key}")
    assert done["state"] == "closed"
    assert [c["state"] for c in done["history"]] == ["open", "investigating", "action", "verification", "closed"]

    page.locator("#show-closed").check()
    closed = page.locator(f"article[data-key='{alert['key']}']")
    expect(closed).to_have_class(re.compile(r"\bstate-closed\b"))
    expect(closed.locator("[data-task]")).to_have_attribute("data-state", "closed")

    # On a tablet the columns wrap: nothing scrolls sideways.
    page.set_viewport_size(TABLET)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the board scrolls sideways"
