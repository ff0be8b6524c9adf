"""``tracegraph demo``: generate a plant, load it, and take a guided tour."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.panel import Panel

from cli.commands.serve import serve
from cli.context import console, domain_errors, err_console, fail, services_for
from i18n import current_language
from i18n import gettext as _
from loaders.synthetic import MARKETS, SCALES, NmpaKeys, NotableKeys, generate_plant
from schema.identifiers import canonical_key
from schema.kinds import EdgeType, NodeKind
from schema.model import TimeWindow, TraceDirection, TraceQuery, iso
from services import nmpa as nmpa_service
from services.app import Services


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    ctx: typer.Context,
    scale: str = typer.Option("small", "--scale", help="small (~1k devices), medium (~100k) or large (~1M)"),
    seed: int = typer.Option(0, "--seed", help="The same seed gives the same plant"),
    data_dir: Path = typer.Option(Path("demo-data"), "--data-dir", help="Where the generated CSV set is written"),
    serve_after: bool = typer.Option(False, "--serve", help="Then serve the API and GraphiQL on 127.0.0.1:8000"),
    port: int = typer.Option(8000, "--port", help="Port for --serve"),
    market: str | None = typer.Option(
        None,
        "--market",
        help="eu (European consignees, GS1 codes) or cn (Chinese consignees, MA-coded infusion sets, NMPA facts); "
        "default cn with --lang zh, else eu",
    ),
) -> None:
    """Generate a synthetic device plant, load it, and print a guided tour."""
    if scale not in SCALES:
        fail(f"--scale must be one of {', '.join(SCALES)}, not '{scale}'")
    market = market or ("cn" if current_language() == "zh_Hans" else "eu")
    if market not in MARKETS:
        fail(f"--market must be one of {', '.join(MARKETS)}, not '{market}'")
    target = data_dir / (f"{scale}-{seed}" if market == "eu" else f"{scale}-{seed}-{market}")
    with domain_errors():
        err_console.print(
            _("generating a {scale} plant (seed {seed}) into {target}/ …").format(scale=scale, seed=seed, target=target)
        )
        manifest = generate_plant(target, scale=scale, seed=seed, market=market)
    with services_for(ctx, migrate=True) as services, domain_errors():
        err_console.print(_("loading it into {location} …").format(location=services.store.location))
        report = services.load_paths([target])
        assert report.result is not None
        loaded = (
            _("already loaded")
            if report.result.already_loaded
            else _("loaded {records} records").format(records=report.records)
        )
        stats = services.stats()
        console.print(
            Panel.fit(
                _("{loaded}: the store now holds {nodes} nodes and {edges} edges ({devices} devices)").format(
                    loaded=loaded, nodes=stats.nodes, edges=stats.edges, devices=stats.nodes_by_kind.get("Device", 0)
                ),
                title="TraceGraph demo",
            )
        )
        tour(services, manifest.notable)
        if manifest.nmpa is not None:
            nmpa_tour(services, manifest.notable, manifest.nmpa, target)
        console.print("\n" + _("Next: `tracegraph --help`, docs/guides/, or `tracegraph show KEY` on any key above."))
    if serve_after:
        console.print(
            f"\nserving it at http://127.0.0.1:{port}  (dashboard: http://127.0.0.1:{port}/, "
            f"GraphiQL: http://127.0.0.1:{port}/graphql, "
            f"REST: http://127.0.0.1:{port}/api/v1/trace/forward?start={manifest.notable.failed_incoming_lot}); "
            "Ctrl+C stops"
        )
        console.print(
            "[bold]this local trial runs in development mode[/]: no sign-in, on 127.0.0.1 only. For real data run "
            "`tracegraph serve` (sign-in with keys from `tracegraph keys create`); see docs/reference/security.md"
        )
        serve(ctx, host="127.0.0.1", port=port, dev=True)


def _names(services: Services, keys: list[str]) -> str:
    shown = []
    for key in keys[:4]:
        name = services.node(key, edge_limit=0).props.get("name")
        shown.append(f"{name} ({key})" if name else key)
    return ", ".join(shown) + (_(" and {count} more").format(count=len(keys) - 4) if len(keys) > 4 else "")


def _step(n: int, title: str, command: str) -> None:
    console.print(f"\n[bold]{n}. {title}[/]")
    console.print(f"   [dim]$ tracegraph {command}[/]")


def tour(services: Services, n: NotableKeys) -> None:
    """Five questions a recall manager, an engineer and an auditor ask first."""
    lot = n.failed_incoming_lot
    _step(1, _("A supplier lot failed incoming inspection: what did it reach?"), f"trace forward {lot}")
    impact = services.trace(TraceQuery(starts=(lot,)))
    counts = impact.counts_by_kind()
    consignees = [x.key for x in impact.nodes if x.kind is NodeKind.CONSIGNEE]
    console.print(
        "   "
        + _(
            "{work_orders} work orders, {lots} lots, {devices} devices, {shipments} shipments, "
            "{count} consignees: {names}"
        ).format(
            work_orders=counts.get("WorkOrder", 0),
            lots=counts.get("ProductLot", 0),
            devices=counts.get("Device", 0),
            shipments=counts.get("Shipment", 0),
            count=len(consignees),
            names=_names(services, consignees),
        )
    )

    device = n.finished_device
    _step(
        2,
        _("A device in a hospital: where does it come from?"),
        f"trace backward {device} --kinds Supplier,MaterialLot,Equipment,Inspection",
    )
    genealogy = services.trace(TraceQuery(starts=(device,), direction=TraceDirection.BACKWARD))
    g = genealogy.counts_by_kind()
    console.print(
        "   "
        + _(
            "{suppliers} suppliers, {lots} material lots, {work_orders} work orders, {machines} machines, "
            "{inspections} inspections stand behind it"
        ).format(
            suppliers=g.get("Supplier", 0),
            lots=g.get("MaterialLot", 0),
            work_orders=g.get("WorkOrder", 0),
            machines=g.get("Equipment", 0),
            inspections=g.get("Inspection", 0),
        )
    )

    earlier = n.reused_case_earlier_device
    case = n.reused_case
    _step(
        3,
        _("Time matters: case {case} was emptied at a distributor and reused").format(case=case),
        f"trace forward {earlier} --kinds Consignee",
    )
    timed = {x.key for x in services.trace(TraceQuery(starts=(earlier,), kinds=frozenset({NodeKind.CONSIGNEE}))).nodes}
    plain = {
        x.key
        for x in services.trace(
            TraceQuery(starts=(earlier,), kinds=frozenset({NodeKind.CONSIGNEE}), ignore_time=True)
        ).nodes
    }
    console.print(
        "   "
        + _("respecting packing and unpacking times: {count} consignee(s): {names}").format(
            count=len(timed), names=_names(services, sorted(timed))
        )
    )
    console.print(
        "   "
        + _(
            "with --ignore-time: {count}; the extra {extra} ({names}) only received the case after this device "
            "had left it"
        ).format(count=len(plain), extra=len(plain - timed), names=_names(services, sorted(plain - timed)))
    )

    equipment = n.equipment
    bad = services.node(n.out_of_tolerance_calibration)
    good = services.node(n.previous_calibration)
    start = next((e.at for e in good.edges_out if e.type is EdgeType.INSPECTED), None)
    end = next((e.at for e in bad.edges_out if e.type is EdgeType.INSPECTED), None)
    _step(
        4,
        _("{equipment} was found out of tolerance: what was made since its last good calibration?").format(
            equipment=equipment
        ),
        f"trace forward {equipment} --from {iso(start)} --to {iso(end)} --kinds Device",
    )
    exposed = services.trace(
        TraceQuery(starts=(equipment,), window=TimeWindow(start=start, end=end), kinds=frozenset({NodeKind.DEVICE}))
    )
    everything = services.trace(TraceQuery(starts=(equipment,), kinds=frozenset({NodeKind.DEVICE})))
    console.print(
        "   "
        + _("{exposed} devices in the exposure window (of {total} it ever tested)").format(
            exposed=exposed.total, total=everything.total
        )
    )

    inspection = n.failed_incoming_inspection
    _step(5, _("Every fact cites its source record"), f"show {inspection}")
    view = services.node(inspection)
    source = view.versions[0].provenance if view.versions else None
    if source is not None:
        console.print(
            f"   {inspection}: {view.props.get('result', '')}; "
            + _("from {source}, line {line}").format(source=source.source, line=source.line)
        )


def nmpa_tour(services: Services, n: NotableKeys, keys: NmpaKeys, target: Path) -> None:
    """The Chinese market's plant: scan an MA code, then recall the failed lot under NMPA rules."""
    label = keys.ma_device_label
    _step(6, _("An MA-coded device at a hospital: scan its label"), f'--lang zh trace backward "{label}"')
    device = canonical_key(label)
    genealogy = services.trace(TraceQuery(starts=(device,), direction=TraceDirection.BACKWARD))
    g = genealogy.counts_by_kind()
    console.print(
        "   "
        + _("{label} is {key}: {suppliers} suppliers and {lots} material lots stand behind it").format(
            label=label, key=device, suppliers=g.get("Supplier", 0), lots=g.get("MaterialLot", 0)
        ),
        highlight=False,
    )

    lot = n.failed_incoming_lot
    facts = target / keys.facts
    _step(
        7,
        _("Recall what the failed lot reached: 召回事件报告表 and 召回计划"),
        f"--lang zh nmpa report event plan --from {lot} --class 2 --facts {facts} --out nmpa-documents",
    )
    scope = services.recall_scope(starts=[lot])
    # Counted as the documents count them: every consignee a device reached, distributors too.
    dossier = services.nmpa_dossier(scope, nmpa_service.load_facts(facts), nmpa_service.RecallClass.SECOND)
    coded = sum(1 for d in scope.devices if d.key.startswith("ma/"))
    console.print(
        "   "
        + _(
            "{units} units ({coded} MA-coded) in {lots} lots at {consignees} consignees; {facts} holds the NMPA facts"
        ).format(
            units=len(scope.devices),
            coded=coded,
            lots=len(scope.by_lot),
            consignees=len(dossier.consignees),
            facts=facts,
        ),
        highlight=False,
    )
