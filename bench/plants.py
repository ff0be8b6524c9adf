"""The benchmark's plants and queries: synthetic plants at three sizes, and the starts of the
three query classes chosen on each by how much of the plant they reach.

The generator's scales are small (1k devices), medium (100k) and large (1M); the suite's
first size, 10k devices, is registered here as ``bench`` for the duration of a generation
(``loaders.synthetic`` is left as it is).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import igraph as ig  # type: ignore[import-untyped]
import orjson

from loaders.synthetic import SCALES, PlantManifest, ScaleProfile, generate_plant
from schema.kinds import TRACED_EDGES, NodeKind

#: A plant of ~10k devices in lots of ~1k: the finished-lot class then reaches ~1k devices.
BENCH_PROFILE = ScaleProfile(devices=10_000, lot_size=1_000, days=60, distributors=2, hospitals=10, complaints=10)
EXTRA_SCALES = {"bench": BENCH_PROFILE}


@contextmanager
def _registered(scale: str) -> Iterator[None]:
    """Make ``scale`` known to the generator while it runs, if it is one of the suite's own."""
    extra = EXTRA_SCALES.get(scale)
    if extra is None or scale in SCALES:
        yield
        return
    SCALES[scale] = extra
    try:
        yield
    finally:
        del SCALES[scale]


def plant(cache: Path, scale: str, seed: int = 0) -> tuple[Path, PlantManifest]:
    """The plant's CSV directory (generated once into ``cache``) and its manifest."""
    out = cache / f"plant-{scale}-{seed}"
    manifest_path = out / "manifest.json"
    if manifest_path.exists():
        return out, PlantManifest.model_validate_json(manifest_path.read_bytes())
    with _registered(scale):
        manifest = generate_plant(out, scale=scale, seed=seed)
    return out, manifest


def choose_queries(db_path: Path, manifest: PlantManifest) -> dict[str, dict[str, Any]]:
    """Starts of the three query classes, forward and backward, chosen by plain reachability.

    - ``finished_lot``: the manifest's finished lot forward (~ a lot of devices); backward,
      the consignee whose deliveries reach the nearest number of devices.
    - ``raw_material``: the material lot reaching nearest to 30 % of the devices forward;
      backward, the consignee reaching nearest to that many devices.
    - ``supplier``: the supplier reaching the most forward; backward, every consignee at once.
    """
    graph = _plain_graph(db_path)
    names: list[str] = graph.vs["name"]
    kinds: list[str] = graph.vs["kind"]
    devices = {i for i, k in enumerate(kinds) if k == NodeKind.DEVICE.value}
    index = {name: i for i, name in enumerate(names)}

    def reach(start: int, mode: str) -> int:
        return len(devices.intersection(graph.subcomponent(start, mode=mode)))

    consignees = [i for i, k in enumerate(kinds) if k == NodeKind.CONSIGNEE.value]
    upstream = {c: reach(c, "in") for c in consignees}

    def consignee_near(target: int) -> int:
        return min(consignees, key=lambda c: (abs(upstream[c] - target), names[c]))

    lot = index[manifest.notable.finished_lot]
    lot_reach = reach(lot, "out")
    material = [i for i, k in enumerate(kinds) if k == NodeKind.MATERIAL_LOT.value]
    downstream = {m: reach(m, "out") for m in material}
    raw = min(material, key=lambda m: (abs(downstream[m] - 0.3 * len(devices)), names[m]))
    suppliers = [i for i, k in enumerate(kinds) if k == NodeKind.SUPPLIER.value]
    supplier = max(suppliers, key=lambda s: (len(graph.subcomponent(s, mode="out")), names[s]))
    return {
        "finished_lot": {
            "forward": [names[lot]],
            "backward": [names[consignee_near(lot_reach)]],
        },
        "raw_material": {
            "forward": [names[raw]],
            "backward": [names[consignee_near(downstream[raw])]],
        },
        "supplier": {
            "forward": [names[supplier]],
            "backward": sorted(names[c] for c in consignees),
        },
    }


def _plain_graph(db_path: Path) -> ig.Graph:
    """Every traced, unretracted edge of the store, as a directed igraph with names and kinds."""
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("SELECT id, key, kind FROM nodes ORDER BY id").fetchall()
        position = {node_id: i for i, (node_id, _key, _kind) in enumerate(rows)}
        types = sorted(t.value for t in TRACED_EDGES)
        edges = db.execute(
            f"SELECT src, dst FROM edges WHERE retracted = 0 AND type IN ({','.join('?' * len(types))})", types
        ).fetchall()
    finally:
        db.close()
    graph = ig.Graph(n=len(rows), edges=[(position[a], position[b]) for a, b in edges], directed=True)
    graph.vs["name"] = [key for _id, key, _kind in rows]
    graph.vs["kind"] = [kind for _id, _key, kind in rows]
    return graph


def dump(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
