"""A node's page shows the open alerts about it, with their tasks' states and due times, as the
alerts API lists them; a node nobody raised an alert about says so."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.conftest import Served, shoot

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]

DUE = re.compile(r"^(in|overdue by) \d")


def node_route(key: str) -> str:
    return f"/#/node/{quote(key, safe='')}"


def test_a_node_with_an_open_alert_shows_it_and_its_tasks(page: Any, served: Served) -> None:
    alerts = served.get("/api/v1/alerts", state="open")
    assert alerts, "the plant raises alerts when it is loaded"
    key = alerts[0]["node"]
    about = [a for a in alerts if a["node"] == key]
    tasks = {t["key"]: t for t in served.get("/api/v1/tasks")}

    page.goto(node_route(key))
    box = page.get_by_test_id("node-alerts")
    expect(box).to_have_attribute("aria-busy", "false")
    shown = box.locator("li[data-alert]")
    expect(shown).to_have_count(len(about))
    for alert in about:
        item = box.locator(f"li[data-alert='{alert['key']}']")
        expect(item).to_have_attribute("data-grade", alert["grade"])
        expect(item.locator("a").first).to_have_text(alert["title"])
        expect(item.locator("time.countdown").first).to_have_text(DUE)
        for task_key in alert["tasks"]:
            task = item.locator(f"li[data-task='{task_key}']")
            expect(task).to_have_attribute("data-state", tasks[task_key]["state"])
            expect(task).to_contain_text(f"Task state: {tasks[task_key]['state']}")
    expect(box.get_by_test_id("no-alerts")).to_have_count(0)
    shoot(page, "node-alerts")

    # The alert links to the board, where the same alert is on its grade's column.
    shown.first.locator("a").first.click()
    expect(page).to_have_url(re.compile(r"#/alerts$"))
    expect(page.locator(f"article[data-key='{about[0]['key']}']")).to_be_visible()


def test_a_node_without_alerts_says_there_are_none(page: Any, served: Served) -> None:
    about = {a["node"] for a in served.get("/api/v1/alerts")}
    key = served.notable.finished_device
    assert key not in about, "the plant's finished device should have no alert"
    page.goto(node_route(key))
    box = page.get_by_test_id("node-alerts")
    expect(box.get_by_test_id("no-alerts")).to_have_text("No open alerts about this node.")
    expect(box.locator("li[data-alert]")).to_have_count(0)
