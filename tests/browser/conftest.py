"""A real server and a real browser: the app as ``tracegraph serve`` builds it, on uvicorn on a
free loopback port, over a temporary SQLite store holding the small synthetic plant; and
Debian's headless Chromium, driven by Playwright.

Without ``/usr/bin/chromium`` (or Playwright) the browser tests skip and say how to get it,
except under ``CI=true``, where they must run (``.ci/run`` installs Chromium).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from loaders.synthetic import NotableKeys, generate_plant
from services.app import Services

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LAPTOP = {"width": 1440, "height": 900}
TABLET = {"width": 820, "height": 1180}
TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason}; under CI=true the browser tests must run (.ci/run installs chromium)")
    pytest.skip(reason)


@dataclass
class Served:
    """The running dashboard: its base URL and the plant's keys worth a look."""

    url: str
    notable: NotableKeys

    def get(self, path: str, **params: Any) -> Any:
        """The JSON of a GET on the API: what the tests compare the screen with."""
        query = urllib.parse.urlencode(params, doseq=True)
        with urllib.request.urlopen(f"{self.url}{path}{'?' + query if query else ''}", timeout=30) as response:
            return json.load(response)


def _free_socket() -> socket.socket:
    """A listening socket on a free loopback port, handed to uvicorn: no race for the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@contextmanager
def serving(settings: ApiSettings) -> Iterator[str]:
    """The API for ``settings`` served by uvicorn in a thread on a free loopback port; yields its URL."""
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("dashboard")
    manifest = generate_plant(root / "plant", scale="small", seed=0)
    # Development mode (no sign-in, loopback only) until the dashboard has its sign-in screen
    # (POST /auth/login, X-CSRF-Token; docs/reference/security.md).
    settings = ApiSettings(store="sqlite:///" + str(root / "store.db"), environment="development")
    services = Services.build(settings, migrate=True)
    try:
        services.load_paths([root / "plant"])
    finally:
        services.close()

    with serving(settings) as url:
        yield Served(url=url, notable=manifest.notable)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"no {CHROMIUM}: apt-get install chromium")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[dev]'")
    expect.set_options(timeout=TIMEOUT_MS)  # a loaded CI machine is slower than the 5 s default
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, served: Served, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context at laptop size; page errors fail the test (a broken module
    would otherwise just leave an empty screen)."""
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, base_url=served.url)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda error: errors.append(str(error)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield pg
    finally:
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            shoot(pg, f"FAILED-{request.node.name}")
        context.close()
    assert not errors, f"the page logged errors: {errors}"


#: What a browser logs when the API refuses a request (before sign-in, or a role's limits).
REFUSED = re.compile(r"Failed to load resource: the server responded with a status of (401|403)\b")


@contextmanager
def watched_page(browser: Any, url: str) -> Iterator[Any]:
    """A page in a fresh context (no cookie) at laptop size; after the block, any console or
    page error other than an API refusal (``REFUSED``) fails the test."""
    context = browser.new_context(viewport=LAPTOP, base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda error: errors.append(str(error)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield pg
    finally:
        context.close()
    unexpected = [e for e in errors if not REFUSED.match(e)]
    assert not unexpected, f"the page logged errors: {unexpected}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    setattr(item, f"rep_{report.when}", report)  # lets ``page`` screenshot a failure
    return report


def shoot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """A screenshot under test-artifacts/screenshots/ (the best are copied to docs/screenshots)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
