"""Small hand-made plants whose right answers can be read off the page."""

from __future__ import annotations

from schema.kinds import EdgeType as E
from schema.kinds import NodeKind as K
from schema.model import FactBatch
from tests.factories import batch, device, edge, gln, lot, node, sscc, t

SUPPLIER = "supplier:ACME"
RESIN_LOT = "lot:RESIN-7"
OTHER_RESIN_LOT = "lot:RESIN-8"
WO = "wo:WO-1"
EXTRUDER = "equipment:EXT-07"
LOT = lot("L1")
D1, D2, D3 = device("S1"), device("S2"), device("S3")
CASE_A, CASE_B, PALLET = sscc(1), sscc(2), sscc(3)
SHIP_DIST, SHIP_H1, SHIP_H2 = "shipment:SH-1", "shipment:SH-2", "shipment:SH-3"
DISTRIBUTOR, HOSPITAL_1, HOSPITAL_2 = gln(1), gln(2), gln(3)
INSPECTION = "inspection:IQC-1"


def repack_plant() -> FactBatch:
    """A supplier lot made into three devices; a distributor unpacks and repacks.

    - D1, D2, D3 packed into CASE_A (t1..t5); CASE_A onto PALLET (t2..t4); PALLET shipped (t3)
      to the distributor.
    - At the distributor CASE_A is emptied at t5. D1 is repacked into CASE_B (t6..) and CASE_B
      is shipped to hospital 1 (t7).
    - The emptied CASE_A is refilled at t8 with nothing of ours... and shipped to hospital 2 at
      t9: a time-respecting forward trace from D1 must not reach hospital 2.
    """
    return batch(
        node(SUPPLIER, K.SUPPLIER, name="Acme Polymers"),
        node(RESIN_LOT, K.MATERIAL_LOT, lot="RESIN-7"),
        node(OTHER_RESIN_LOT, K.MATERIAL_LOT, lot="RESIN-8"),
        node(WO, K.WORK_ORDER),
        node(EXTRUDER, K.EQUIPMENT, name="Extruder 7"),
        node(LOT, K.PRODUCT_LOT, lot="L1"),
        *(node(d, K.DEVICE) for d in (D1, D2, D3)),
        *(node(c, K.CONTAINER) for c in (CASE_A, CASE_B, PALLET)),
        *(node(s, K.SHIPMENT) for s in (SHIP_DIST, SHIP_H1, SHIP_H2)),
        node(DISTRIBUTOR, K.CONSIGNEE, name="MedDistrib"),
        node(HOSPITAL_1, K.CONSIGNEE, name="St. Mary"),
        node(HOSPITAL_2, K.CONSIGNEE, name="General"),
        node(INSPECTION, K.INSPECTION, result="fail"),
        edge(E.SUPPLIED, SUPPLIER, RESIN_LOT, at=t(-10)),
        edge(E.SUPPLIED, SUPPLIER, OTHER_RESIN_LOT, at=t(-10)),
        edge(E.INSPECTED, INSPECTION, RESIN_LOT, at=t(-9)),
        edge(E.CONSUMED_BY, RESIN_LOT, WO, at=t(0), quantity=5.0),
        edge(E.USED_IN, EXTRUDER, WO, at=t(0), until=t(0.5)),
        edge(E.PRODUCED, WO, LOT, at=t(0.5)),
        *(edge(E.INCLUDES, LOT, d, at=t(0.5)) for d in (D1, D2, D3)),
        *(edge(E.PACKED_IN, d, CASE_A, at=t(1), until=t(5)) for d in (D1, D2, D3)),
        edge(E.PACKED_IN, CASE_A, PALLET, at=t(2), until=t(4)),
        edge(E.SHIPPED_IN, PALLET, SHIP_DIST, at=t(3)),
        edge(E.DELIVERED_TO, SHIP_DIST, DISTRIBUTOR, at=t(3.5)),
        edge(E.PACKED_IN, D1, CASE_B, at=t(6)),
        edge(E.SHIPPED_IN, CASE_B, SHIP_H1, at=t(7)),
        edge(E.DELIVERED_TO, SHIP_H1, HOSPITAL_1, at=t(7.5)),
        edge(E.SHIPPED_IN, CASE_A, SHIP_H2, at=t(9)),
        edge(E.DELIVERED_TO, SHIP_H2, HOSPITAL_2, at=t(9.5)),
    )
