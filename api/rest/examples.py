"""Example values for the OpenAPI document, taken from the small repack plant the tests load
(``tests/conformance/plants.py``), so every example is one a reader can try."""

from __future__ import annotations

from typing import Any

DEVICE = "01/09506000130019/21/S1"
DEVICE_URN = "urn:epc:id:sgtin:9506000.013001.S1"
SUPPLIER = "supplier:ACME"
RESIN_LOT = "lot:RESIN-7"
HOSPITAL = "414/9506000000022"

TRACE_RESULT: dict[str, Any] = {
    "starts": [RESIN_LOT],
    "direction": "forward",
    "total": 3,
    "truncated": True,
    "is_partial": False,
    "nodes": [
        {"key": "wo:WO-1", "kind": "WorkOrder", "degree": 1, "path": [RESIN_LOT, "wo:WO-1"]},
        {
            "key": "01/09506000130019/10/L1",
            "kind": "ProductLot",
            "degree": 2,
            "path": [RESIN_LOT, "wo:WO-1", "01/09506000130019/10/L1"],
        },
    ],
    "edges": [
        {"source": RESIN_LOT, "target": "wo:WO-1", "type": "CONSUMED_BY"},
        {"source": "wo:WO-1", "target": "01/09506000130019/10/L1", "type": "PRODUCED"},
    ],
}

PROVENANCE: dict[str, Any] = {
    "source_system": "erp",
    "source": "receipts.csv",
    "line": 12,
    "record_id": None,
    "record_hash": "5f0c…",
}

NODE_VIEW: dict[str, Any] = {
    "key": RESIN_LOT,
    "kind": "MaterialLot",
    "props": {"lot": "RESIN-7"},
    "versions": [
        {
            "recorded_at": "2024-01-02T08:00:00Z",
            "batch_id": "9c1e…",
            "provenance": PROVENANCE,
            "props": {"lot": "RESIN-7"},
            "at": None,
            "until": None,
            "retracted": False,
        }
    ],
    "edges_in": [
        {
            "type": "SUPPLIED",
            "source": SUPPLIER,
            "target": RESIN_LOT,
            "at": "2023-12-31T14:00:00Z",
            "until": None,
            "props": {},
            "retracted": False,
            "versions": [],
        }
    ],
    "edges_out": [],
    "edges_truncated": False,
}

LOAD_REPORT: dict[str, Any] = {
    "sources": ["packing.csv"],
    "records": 3,
    "nodes": 4,
    "edges": 3,
    "rejects": [],
    "result": {
        "batch_id": "0b5d…",
        "already_loaded": False,
        "nodes_added": 4,
        "nodes_changed": 0,
        "edges_added": 3,
        "edges_changed": 0,
        "retracted": 0,
        "recorded_at": "2024-05-01T10:00:00Z",
    },
    "applied": True,
}

REJECTED: dict[str, Any] = {
    "type": "urn:tracegraph:error:rejected_records",
    "title": "rejected records",
    "status": 422,
    "detail": "1 record(s) rejected; nothing was loaded (use --partial to load the rest)",
    "code": "rejected_records",
    "rejects": [
        {
            "source": "packing.csv",
            "line": 3,
            "field": "case",
            "reason": "bad SSCC check digit",
            "record": "01/09506000130019/21/S9,00/095060000000000016,2024-01-01T10:00:00Z",
        }
    ],
}


def json_example(value: Any, description: str = "") -> dict[str, Any]:
    """An OpenAPI ``responses`` entry's JSON content with one example."""
    return {"description": description or "OK", "content": {"application/json": {"example": value}}}
