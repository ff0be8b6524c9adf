"""``tracegraph sources --cases KEY... [--controls KEY... | --controls-auto] [--kinds ...] [--json]``."""

from __future__ import annotations

from enum import StrEnum

import typer
from rich.markup import escape
from rich.table import Table

from cli.context import console, domain_errors, fail, parse_time, print_json, services_for
from risk.sources import Candidate, LikelySources
from schema.kinds import parse_kinds
from schema.model import iso
from services.sources import DEFAULT_MARGIN_DAYS, DEFAULT_MATURITY_DAYS, PARSIMONY


class By(StrEnum):
    bayes = "bayes"
    likelihood = "likelihood"
    fisher = "fisher"


def register(app: typer.Typer) -> None:
    app.command("sources")(sources)


def _keys(values: list[str]) -> list[str]:
    """Repeated options, each possibly a comma- or space-separated list."""
    return [k for v in values for k in v.replace(",", " ").split() if k]


def sources(
    ctx: typer.Context,
    cases: list[str] = typer.Option(
        [], "--cases", "--case", help="Complaints or complained/failed units (repeatable; commas separate keys)"
    ),
    controls: list[str] = typer.Option(
        [], "--controls", "--control", help="Units without the problem to compare against (repeatable)"
    ),
    controls_auto: bool = typer.Option(
        False, "--controls-auto", help="Compare with the units built in the same period without a complaint (default)"
    ),
    kinds: str | None = typer.Option(
        None, "--kinds", help="Only these kinds: Supplier,MaterialLot,ProductLot,WorkOrder,Equipment,ChangeRecord"
    ),
    margin_days: float = typer.Option(
        DEFAULT_MARGIN_DAYS, "--margin-days", min=0.0, help="Automatic controls: widen the cases' period by N days"
    ),
    statistic: By = typer.Option(By.bayes, "--by", help="Rank by Bayes factor, likelihood ratio or Fisher p-value"),
    as_of: str | None = typer.Option(None, "--as-of", help="Answer as the store knew it then"),
    limit: int = typer.Option(10, "--limit", min=1, help="Candidates listed (and the best of every kind)"),
    parsimony: float = typer.Option(
        PARSIMONY, "--parsimony", min=1.0, help="Fold a carrier upstream unless the data prefer it this many times"
    ),
    no_signals: bool = typer.Option(False, "--no-signals", help="Rank on the counts alone, without signal priors"),
    maturity_days: float = typer.Option(
        DEFAULT_MATURITY_DAYS, "--maturity-days", min=0.0, help="A unit counts fully once shipped N days ago"
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Find the source: rank the upstream causes common to a set of complaints or failures."""
    case_keys = _keys(cases)
    control_keys = _keys(controls)
    if not case_keys:
        fail("say which complaints or units are the cases: --cases KEY")
    if control_keys and controls_auto:
        fail("--controls and --controls-auto exclude each other")
    with domain_errors():
        wanted = parse_kinds([kinds] if kinds else None)
    moment = parse_time(as_of, "--as-of")
    with services_for(ctx) as services, domain_errors():
        answer = services.likely_sources(
            case_keys,
            controls=control_keys or None,
            kinds=wanted,
            margin_days=margin_days,
            as_of=moment,
            limit=limit,
            statistic=statistic.value,
            parsimony=parsimony,
            use_signals=not no_signals,
            maturity_days=maturity_days,
        )
    if as_json:
        print_json(answer.to_json())
        return
    show(answer, limit=limit)


def _window(c: Candidate) -> str:
    if c.window_start is None:
        return ""
    return f"{iso(c.window_start)} → {iso(c.window_end) or 'on'}"


def _p(p: float) -> str:
    return f"{p:.2g}" if p >= 1e-3 else f"{p:.1e}"


def show(answer: LikelySources, *, limit: int) -> None:
    n = len(answer.cases)
    against = f"{answer.controls} control unit(s)"
    if answer.controls_mode == "auto" and answer.period_start and answer.period_end:
        against += f" built {answer.period_start:%Y-%m-%d} to {answer.period_end:%Y-%m-%d} without a complaint"
    console.print(
        f"[bold]likely sources[/] of {n} case(s) against {against}: {answer.total} candidate(s) "
        f"({answer.tested} distinct), ranked by {answer.statistic}"
        + (" [yellow](partial: a server budget cut a trace short)[/]" if answer.is_partial else "")
    )
    for note in answer.notes:
        console.print(f"[yellow]•[/] {escape(note)}", soft_wrap=True)
    table = Table("#", "kind", "candidate", "explains", "controls", "log BF", "p", "first", title_justify="left")
    table.columns[2].overflow = "fold"
    for c in answer.candidates:
        table.add_row(
            str(c.rank),
            c.group,
            escape(c.key) + (" ≡ …" if c.equivalent else ""),
            f"{c.explained}/{n}" + (" [bold]common link[/]" if c.common_link else ""),
            f"{c.controls} ({c.control_share:.0%})",
            f"{c.log_bayes_factor:.1f}",
            _p(c.p_adjusted) + (f" [dim](of {c.windows_tried} windows)[/]" if c.windows_tried > 1 else ""),
            "" if c.top_share is None else f"{c.top_share:.0%}",
        )
    console.print(table)
    for c in answer.candidates[: min(3, limit)]:
        console.print(f"\n[bold]#{c.rank} {escape(c.key)}[/] ({c.group}) {_window(c)}", soft_wrap=True)
        if c.equivalent:
            console.print("  same cases and controls: " + escape(", ".join(c.equivalent)), soft_wrap=True)
        if c.carriers:
            console.print("  carried by: " + escape(", ".join(c.carriers[:8])), soft_wrap=True)
        for signal in c.signals[:3]:
            console.print(f"  [red]![/] prior: {escape(signal)}", soft_wrap=True)
        for path in c.paths[:3]:
            console.print("  path: " + escape(" → ".join(path)), soft_wrap=True)
        for e in c.evidence[:5]:
            mark = "[red]![/]" if e.flagged else " "
            when = f"{e.at:%Y-%m-%d %H:%M}" if e.at else ""
            console.print(f"  {mark} {escape(e.key)} {when} {escape(e.summary)}", soft_wrap=True)
        if c.next is not None:
            console.print(f"  next: [cyan]{escape(c.next.trace)}[/]", soft_wrap=True)
            console.print(f"        [cyan]{escape(c.next.recall)}[/]", soft_wrap=True)
    groups = Table("kind", "candidates, best first", title="by kind", title_justify="left")
    for group, keys in answer.by_group.items():
        groups.add_row(group, escape(", ".join(keys[:5]) + (" …" if len(keys) > 5 else "")))
    console.print(groups)
