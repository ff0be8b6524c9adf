"""What every command shares: the chosen store URL, output helpers, error mapping."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

import orjson
import typer
from rich.console import Console
from rich.markup import escape

from i18n import gettext as _
from i18n.errors import error_message
from schema.errors import (
    InvalidInputError,
    NotFoundError,
    RejectedRecordsError,
    StoreError,
    TraceGraphError,
)
from schema.model import utc
from services.app import Services
from services.settings import Settings

console = Console()
err_console = Console(stderr=True)

#: Exit codes scripts can rely on.
EXIT_INVALID = 2
EXIT_NOT_FOUND = 3
EXIT_STORE = 4
EXIT_REJECTED = 5


@dataclass
class State:
    store_url: str
    busy_timeout: float = 5.0
    #: Who the audit trail records: --actor, else the OS account (services.audit.default_actor).
    actor: str | None = None


def state(ctx: typer.Context) -> State:
    obj = ctx.find_root().obj
    assert isinstance(obj, State)
    return obj


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    err_console.print("[bold red]" + escape(_("error")) + f":[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def exit_code(error: TraceGraphError) -> int:
    if isinstance(error, RejectedRecordsError):
        return EXIT_REJECTED
    if isinstance(error, NotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(error, StoreError):
        return EXIT_STORE
    if isinstance(error, InvalidInputError):
        return EXIT_INVALID
    return 1


@contextmanager
def domain_errors() -> Iterator[None]:
    """Turn domain errors into one clear line on stderr and a stable exit code."""
    try:
        yield
    except RejectedRecordsError as exc:
        for reject in exc.rejects[:200]:
            err_console.print(f"  {reject}", markup=False, highlight=False, soft_wrap=True)
        if len(exc.rejects) > 200:
            err_console.print(f"  … and {len(exc.rejects) - 200} more (see --reject-report)")
        fail(str(exc), EXIT_REJECTED)
    except TraceGraphError as exc:
        fail(error_message(exc), exit_code(exc))


@contextmanager
def services_for(ctx: typer.Context, *, migrate: bool = False) -> Iterator[Services]:
    """The composition root of one command: services on the chosen store, closed afterwards."""
    st = state(ctx)
    with domain_errors():
        services = Services.build(
            Settings(store=st.store_url, busy_timeout=st.busy_timeout), migrate=migrate, actor=st.actor
        )
        try:
            yield services
        finally:
            services.close()


def print_json(payload: Any) -> None:
    sys.stdout.buffer.write(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n")
    sys.stdout.flush()


def parse_time(value: str | None, option: str) -> datetime | None:
    """ISO 8601 date or date-time; naive values are UTC."""
    if value is None:
        return None
    try:
        return utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        fail(f"{option}: '{value}' is not an ISO 8601 date or time (e.g. 2024-03-01 or 2024-03-01T08:00:00Z)")
