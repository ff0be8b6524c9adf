"""What HTTP costs a recall-size trace: the same forward trace in-process and over HTTP.

    python -m bench.api_overhead [--devices 10000] [--rounds 7]

Builds a plant on a temporary SQLite store (one resin lot into work orders, lots, devices,
cases, pallets, shipments and hospitals), then times ``Services.trace`` against
``GET /api/v1/trace/forward`` served by uvicorn on 127.0.0.1 (a free port, this process
only), and prints the medians and their ratio. The loops are bounded; nothing asserts times.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

from api.app import create_app
from api.settings import ApiSettings
from loaders.base import ParseResult
from schema.identifiers import gs1_check_digit
from schema.kinds import EdgeType, NodeKind
from schema.model import EdgeFact, NodeFact, Provenance, TraceDirection, TraceQuery
from services.app import Services

RESIN = "lot:RESIN-BENCH"
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def plant(devices: int) -> ParseResult:
    """A recall-size forward trace from one resin lot: ``devices`` units and what holds them."""
    prov = Provenance(source_system="bench", source="bench")
    out = ParseResult()

    def node(key: str, kind: NodeKind) -> None:
        out.nodes.append(NodeFact(key=key, kind=kind, provenance=prov))

    def edge(type_: EdgeType, source: str, target: str, hours: float, until: float | None = None) -> None:
        at, end = T0 + timedelta(hours=hours), (T0 + timedelta(hours=until) if until is not None else None)
        out.edges.append(EdgeFact(type=type_, source=source, target=target, at=at, until=end, provenance=prov))

    gtin = "0950600013001" + gs1_check_digit("0950600013001")
    node(RESIN, NodeKind.MATERIAL_LOT)
    per_order, per_case, per_pallet = 500, 50, 10
    for n in range(devices):
        order, case, pallet = n // per_order, n // per_case, n // (per_case * per_pallet)
        wo, lot, dev = f"wo:WO-{order}", f"01/{gtin}/10/L{order}", f"01/{gtin}/21/S{n}"
        sscc_body = f"0950600{case:010d}"
        box = f"00/{sscc_body}{gs1_check_digit(sscc_body)}"
        pal, ship, site = f"container:PAL-{pallet}", f"shipment:SH-{pallet}", f"consignee:HOSP-{pallet % 10}"
        if n % per_order == 0:
            node(wo, NodeKind.WORK_ORDER)
            node(lot, NodeKind.PRODUCT_LOT)
            edge(EdgeType.CONSUMED_BY, RESIN, wo, order)
            edge(EdgeType.PRODUCED, wo, lot, order + 0.5)
        if n % (per_case * per_pallet) == 0:
            node(pal, NodeKind.CONTAINER)
            node(ship, NodeKind.SHIPMENT)
            node(site, NodeKind.CONSIGNEE)
            edge(EdgeType.SHIPPED_IN, pal, ship, 200 + pallet)
            edge(EdgeType.DELIVERED_TO, ship, site, 201 + pallet)
        if n % per_case == 0:
            node(box, NodeKind.CONTAINER)
            edge(EdgeType.PACKED_IN, box, pal, 100, 400)
        node(dev, NodeKind.DEVICE)
        edge(EdgeType.INCLUDES, lot, dev, order + 0.5)
        edge(EdgeType.PACKED_IN, dev, box, 50, 400)
    out.records = len(out.nodes)
    return out


def median_seconds(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm caches, connections and the parser once
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        # Development mode: loopback only, no sign-in, so the figure is the HTTP cost alone.
        settings = ApiSettings(
            store="sqlite:///" + str(Path(tmp) / "bench.db"), trace_max_limit=10**7, environment="development"
        )
        services = Services.build(settings, migrate=True)
        services.load_parsed(plant(args.devices), source="bench", content_hash=None)
        query = TraceQuery(starts=(RESIN,), direction=TraceDirection.FORWARD, limit=10**7)
        in_process = median_seconds(lambda: services.trace(query).to_json(), args.rounds)
        reached = services.trace(query).total
        services.close()

        port = free_port()
        server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
                params: dict[str, str | int] = {"start": RESIN, "limit": 10**7}

                def over_http() -> None:
                    response = client.get("/api/v1/trace/forward", params=params)
                    response.raise_for_status()
                    response.json()

                size = len(client.get("/api/v1/trace/forward", params=params).content)
                http = median_seconds(over_http, args.rounds)
        finally:
            server.should_exit = True
            thread.join(timeout=20)

    print(f"forward trace reaching {reached} nodes; response {size / 1e6:.1f} MB; median of {args.rounds} rounds")
    print(f"in-process (Services.trace + to_json): {in_process * 1000:8.1f} ms")
    print(f"over HTTP (uvicorn, 127.0.0.1, parsed): {http * 1000:8.1f} ms")
    print(f"HTTP / in-process: {http / in_process:.2f}x")


if __name__ == "__main__":
    main()
