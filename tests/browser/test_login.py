"""Signing in to a server in production mode: the dashboard shows its login form when the API
answers 401, opens a session with an API key (issued as `tracegraph keys create` does), sends the
session's CSRF token with every change (GraphQL, task moves), keeps the session across a reload,
and signs out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.settings import ApiSettings
from loaders.synthetic import NotableKeys, generate_plant
from schema.access import Role
from schema.alerts import AlertGrade, AlertState, TaskState
from services.access import AccessControl
from services.app import Services
from tests.browser.conftest import serving, shoot, watched_page

pytestmark = pytest.mark.browser

try:
    from playwright.sync_api import expect
except ImportError:  # the ``browser`` fixture skips (or, under CI, fails) and says why
    expect = None  # type: ignore[assignment]

USER = "J. Doe (quality)"


@dataclass
class Secured:
    url: str
    notable: NotableKeys
    key: str
    closed_alert: str


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    """The small plant behind a server in production mode (sign-in required), and the key of
    a quality engineer (graph reads, alerts and tasks)."""
    root = tmp_path_factory.mktemp("secured")
    manifest = generate_plant(root / "plant", scale="small", seed=0)
    settings = ApiSettings(store="sqlite:///" + str(root / "store.db"), environment="production")
    services = Services.build(settings, migrate=True)
    try:
        services.load_paths([root / "plant"])
        # One alert closed beforehand (as `tracegraph tasks move` would): its closure can be signed.
        alert = next(a for a in services.alerts(state=AlertState.OPEN) if a.grade is AlertGrade.WATCH)
        services.move_task(alert.tasks[0], TaskState.INVESTIGATING)
        services.move_task(
            alert.tasks[0], TaskState.CLOSED, {"root_cause": "supplier error", "justification": "lot returned unused"}
        )
    finally:
        services.close()
    access = AccessControl.for_settings(settings)
    try:
        key = access.create_key(name=USER, role=Role.QUALITY_ENGINEER, actor="test").secret
    finally:
        access.close()

    with serving(settings) as url:
        yield Secured(url=url, notable=manifest.notable, key=key, closed_alert=alert.key)


@pytest.fixture
def signed_out_page(browser: Any, secured: Secured) -> Iterator[Any]:
    """A fresh browser (no cookie). Refusals before sign-in (401) and a wrong key are expected
    in the console; any other error fails the test."""
    with watched_page(browser, secured.url) as pg:
        yield pg


def test_sign_in_csrf_reload_and_sign_out(signed_out_page: Any, secured: Secured, tmp_path: Path) -> None:
    page = signed_out_page
    page.goto("/")
    form = page.locator("form.login")
    expect(form).to_be_visible()
    expect(page.locator("#login-key")).to_be_focused()  # type the key straight away
    expect(page.get_by_test_id("stat-nodes")).to_have_count(0)
    shoot(page, "login")

    # A wrong key: the server's reason, and still the form.
    page.fill("#login-key", "tgk_not-a-real-key")
    page.keyboard.press("Enter")
    expect(form.locator("[role=alert]")).to_contain_text("Not signed in")
    expect(form).to_be_visible()

    # The right key: the overview, whose names come from GraphQL (a POST: it needs the token).
    with page.expect_request(lambda r: r.url.endswith("/graphql")) as graphql:
        page.fill("#login-key", secured.key)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("stat-nodes")).to_be_visible()
    assert graphql.value.headers.get("x-csrf-token")
    expect(page.get_by_test_id("signed-in-as")).to_have_text(USER)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["__Host-tracegraph-session"]["httpOnly"]

    # After a reload the cookie still signs in and the token is asked of GET /auth/session:
    # a task moves on the board (a REST POST) without a second sign-in.
    page.reload()
    page.goto("/#/alerts")
    task = page.locator("[data-task][data-state='open']").first
    expect(task).to_be_visible()
    key = task.get_attribute("data-task")
    with page.expect_request(lambda r: r.method == "POST" and "/move" in r.url) as moved:
        task.locator("button[data-move='investigating']").click()
        task.locator("form.move-form button[type=submit]").click()
    assert moved.value.headers.get("x-csrf-token")
    expect(page.locator(f"[data-task='{key}']")).to_have_attribute("data-state", "investigating")

    # Signing a closure re-authenticates: a wrong key is refused (401) without ending the session.
    page.locator("#show-closed").check()
    closed = page.locator(f"article[data-key='{secured.closed_alert}']")
    closed.get_by_test_id("sign-closure").click()
    form = closed.locator("form.sign-form")
    form.locator("[name=api_key]").fill("tgk_0000_not-my-key")
    form.locator("[name=reason]").fill("Investigation complete: the lot was returned unused")
    form.locator("button[type=submit]").click()
    expect(form.locator("[role=alert]")).to_contain_text("unauthenticated")
    expect(page.locator("form.login")).to_have_count(0)
    form.locator("[name=api_key]").fill(secured.key)
    with page.expect_response(lambda r: "/api/v1/signatures/alerts/" in r.url) as answer:
        form.locator("button[type=submit]").click()
    assert answer.value.status == 200
    signature = answer.value.json()["signature"]
    assert (signature["printed_name"], signature["kind"], signature["meaning"]) == (USER, "alert-closure", "approval")
    expect(closed.get_by_test_id("signature-id")).to_have_text(signature["id"])
    shoot(page, "alerts-signed")

    # Sign out: the session ends on the server too, so the next view asks for a sign-in again.
    page.get_by_test_id("sign-out").click()
    expect(page.locator("form.login")).to_be_visible()
    expect(page.get_by_test_id("signed-in-as")).to_have_count(0)
    page.goto("/#/alerts")
    page.reload()
    expect(page.locator("form.login")).to_be_visible()
    expect(page.locator("[data-task]")).to_have_count(0)


def test_a_session_that_ends_brings_back_the_login_form(signed_out_page: Any, secured: Secured) -> None:
    """The cookie is gone (expired, ended elsewhere): the next request's 401 shows the form, and
    signing in again lands on the view that was asked for."""
    page = signed_out_page
    page.goto("/")
    page.fill("#login-key", secured.key)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("stat-nodes")).to_be_visible()
    page.context.clear_cookies()
    page.goto("/#/alerts")
    expect(page.locator("form.login")).to_be_visible()
    page.fill("#login-key", secured.key)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Alerts and tasks")).to_be_visible()
