"""The plant's master data: suppliers, the item master and its multi-level BOM, equipment.

A fictional maker of single-use vascular-access devices ("Alpenmed") builds three finished
products from moulded and extruded components and bought-in parts:

- infusion set: drip chamber assembly + PVC tubing + roller clamp + luer + valve
- central venous catheter kit: catheter assembly (PU shaft + hub + luer) + stopcock + tubing
- pressure transducer: sensor assembly (housing + sensor die + cable + seal) + tubing + stopcock

Numbers are GS1-shaped with valid check digits under fictional company prefixes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from schema.identifiers import gs1_check_digit

#: GS1 company prefix of the plant (GTINs, SSCCs of its cases and pallets, its own GLN).
PLANT_PREFIX = "7612345"
PLANT_GLN = PLANT_PREFIX + "00001" + gs1_check_digit(PLANT_PREFIX + "00001")
PLANT_SITE = "Alpenmed plant Chur"


def with_check_digit(digits: str) -> str:
    return digits + gs1_check_digit(digits)


def gtin14(prefix: str, item_reference: str) -> str:
    """GTIN-14 with indicator digit 0: ``0`` + prefix + item reference + check digit."""
    body = "0" + prefix + item_reference
    assert len(body) == 13, body
    return with_check_digit(body)


def sscc18(prefix: str, serial_reference: int) -> str:
    """SSCC-18 with extension digit 0."""
    body = "0" + prefix + f"{serial_reference:0{16 - len(prefix)}d}"
    assert len(body) == 17, body
    return with_check_digit(body)


def gln13(prefix: str, location_reference: int) -> str:
    body = prefix + f"{location_reference:0{12 - len(prefix)}d}"
    assert len(body) == 12, body
    return with_check_digit(body)


@dataclass(frozen=True)
class Supplier:
    code: str
    name: str
    country: str
    status: str = "approved"

    @property
    def key(self) -> str:
        return f"supplier:{self.code}"


SUPPLIERS: tuple[Supplier, ...] = (
    Supplier("SUP-001", "Polymed Compounds GmbH", "DE"),
    Supplier("SUP-002", "Vinylis Médical SA", "FR"),
    Supplier("SUP-003", "Clearpoly Resins BV", "NL"),
    Supplier("SUP-004", "Nordic Polymers AB", "SE"),
    Supplier("SUP-005", "SiliTech Elastomers Inc.", "US"),
    Supplier("SUP-006", "Adhesa Medical Ltd", "GB"),
    Supplier("SUP-007", "Luerline Componenti srl", "IT"),
    Supplier("SUP-008", "ValveTec Medical GmbH", "DE"),
    Supplier("SUP-009", "Filtra Membranes SA", "CH"),
    Supplier("SUP-010", "Precision Cannula Co., Ltd.", "JP"),
    Supplier("SUP-011", "SenseChip Microsystems GmbH", "AT"),
    Supplier("SUP-012", "CableMed Assemblies Kft.", "HU"),
    Supplier("SUP-013", "PackSafe Sterile Barrier GmbH", "DE"),
    Supplier("SUP-014", "LabelPoint Print AG", "CH"),
    Supplier("SUP-015", "ColorMaster Masterbatch NV", "BE"),
    Supplier("SUP-016", "PU Flex Polymers Sp. z o.o.", "PL"),
    Supplier("SUP-017", "ABS Polímeros Ibérica SL", "ES"),
    Supplier("SUP-018", "Radiopaque Additives Ltd", "IE"),
    Supplier("SUP-019", "Stopcock Medical s.r.o.", "CZ"),
    Supplier("SUP-020", "Luer Asia Precision Ltd", "TW", "conditional"),
    Supplier("SUP-021", "Resinas del Norte SA", "ES"),
    Supplier("SUP-022", "Baltic Film Packaging UAB", "LT", "conditional"),
)


@dataclass(frozen=True)
class Part:
    """An item-master entry. ``process`` names the equipment types a work order for it uses."""

    code: str
    name: str
    part_type: str  # raw_material | purchased_component | component | subassembly | finished
    unit: str
    suppliers: tuple[str, ...] = ()  # supplier codes, bought parts only
    process: tuple[str, ...] = ()  # equipment types, made parts only
    gtin: str | None = None
    shelf_life_days: int | None = None
    #: Made parts: typical hours a work order takes (plus a share per unit for finished goods).
    hours: tuple[float, float] = (6.0, 12.0)
    #: Incoming (bought) or in-process (made) measurements: name, nominal, spread.
    measurements: tuple[tuple[str, float, float], ...] = ()

    @property
    def key(self) -> str:
        return f"part:{self.code}"

    @property
    def bought(self) -> bool:
        return self.part_type in ("raw_material", "purchased_component")


@dataclass(frozen=True)
class Product:
    """A finished device: its part, GTIN, share of production and packing sizes."""

    part: str
    short: str
    share: float
    case_size: int
    cases_per_pallet: int


_RAW = "raw_material"
_BUY = "purchased_component"

PARTS: tuple[Part, ...] = (
    # Raw materials (kg)
    Part(
        "RM-PVC",
        "PVC compound, medical grade, DEHP-free",
        _RAW,
        "kg",
        ("SUP-001", "SUP-002"),
        measurements=(("shore_a", 82.0, 1.5), ("melt_flow_g10min", 14.0, 0.8)),
    ),
    Part(
        "RM-PC",
        "Polycarbonate resin, medical grade",
        _RAW,
        "kg",
        ("SUP-003", "SUP-021"),
        measurements=(("melt_flow_g10min", 10.0, 0.6), ("moisture_pct", 0.02, 0.005)),
    ),
    Part(
        "RM-PP",
        "Polypropylene resin, medical grade",
        _RAW,
        "kg",
        ("SUP-004",),
        measurements=(("melt_flow_g10min", 25.0, 1.2), ("moisture_pct", 0.01, 0.003)),
    ),
    Part("RM-ABS", "ABS resin", _RAW, "kg", ("SUP-017",), measurements=(("melt_flow_g10min", 18.0, 1.0),)),
    Part(
        "RM-PU",
        "Thermoplastic polyurethane, 80A",
        _RAW,
        "kg",
        ("SUP-016",),
        measurements=(("shore_a", 80.0, 1.5), ("moisture_pct", 0.03, 0.008)),
    ),
    Part("RM-LSR", "Liquid silicone rubber, 2-part", _RAW, "kg", ("SUP-005",), measurements=(("shore_a", 50.0, 1.2),)),
    Part("RM-MB", "Colour masterbatch, blue", _RAW, "kg", ("SUP-015",), measurements=(("colour_de", 0.6, 0.2),)),
    Part(
        "RM-BASO4",
        "Barium sulfate, radiopaque filler",
        _RAW,
        "kg",
        ("SUP-018",),
        measurements=(("particle_um", 1.2, 0.1),),
    ),
    Part(
        "RM-ADH",
        "UV-curing medical adhesive",
        _RAW,
        "kg",
        ("SUP-006",),
        measurements=(("viscosity_mpas", 5000.0, 250.0),),
    ),
    # Purchased components (ea)
    Part(
        "PC-LUER",
        "Male luer lock connector",
        _BUY,
        "ea",
        ("SUP-007", "SUP-020"),
        measurements=(("thread_od_mm", 6.9, 0.02), ("taper_gauge", 0.0, 0.1)),
    ),
    Part("PC-NFV", "Needle-free valve", _BUY, "ea", ("SUP-008",), measurements=(("crack_pressure_kpa", 14.0, 0.8),)),
    Part(
        "PC-FILT",
        "Air filter membrane disc, 15 µm",
        _BUY,
        "ea",
        ("SUP-009",),
        measurements=(("bubble_point_kpa", 310.0, 8.0),),
    ),
    Part("PC-SPIKE", "Spike cannula, stainless steel", _BUY, "ea", ("SUP-010",), measurements=(("od_mm", 5.6, 0.02),)),
    Part(
        "PC-SENS",
        "Piezoresistive pressure sensor die",
        _BUY,
        "ea",
        ("SUP-011",),
        measurements=(("sensitivity_uv_v_mmhg", 5.0, 0.05),),
    ),
    Part(
        "PC-CABLE", "Transducer cable assembly", _BUY, "ea", ("SUP-012",), measurements=(("continuity_ohm", 0.4, 0.05),)
    ),
    Part("PC-STOP", "Three-way stopcock", _BUY, "ea", ("SUP-019",), measurements=(("leak_ml_min", 0.0, 0.01),)),
    Part(
        "PK-POUCH",
        "Sterile barrier pouch, Tyvek/film",
        _BUY,
        "ea",
        ("SUP-013", "SUP-022"),
        measurements=(("seal_strength_n15mm", 4.5, 0.3),),
    ),
    Part("PK-LABEL", "UDI label", _BUY, "ea", ("SUP-014",), measurements=(("print_grade", 3.6, 0.2),)),
    # Components made in house
    Part(
        "CMP-TUB",
        "PVC tubing 3.0 x 4.1 mm",
        "component",
        "m",
        process=("extruder",),
        hours=(6, 12),
        measurements=(("od_mm", 4.10, 0.02), ("id_mm", 3.00, 0.02)),
    ),
    Part(
        "CMP-CATH",
        "PU catheter shaft, radiopaque",
        "component",
        "ea",
        process=("extruder",),
        hours=(8, 14),
        measurements=(("od_mm", 2.33, 0.01), ("tensile_n", 31.0, 1.2)),
    ),
    Part(
        "CMP-DCH",
        "Drip chamber",
        "component",
        "ea",
        process=("moulding_machine",),
        hours=(8, 20),
        measurements=(("weight_g", 4.2, 0.05), ("wall_mm", 0.95, 0.02)),
    ),
    Part(
        "CMP-CLAMP",
        "Roller clamp",
        "component",
        "ea",
        process=("moulding_machine",),
        hours=(8, 16),
        measurements=(("weight_g", 2.1, 0.03),),
    ),
    Part(
        "CMP-HUB",
        "Catheter hub",
        "component",
        "ea",
        process=("moulding_machine",),
        hours=(8, 16),
        measurements=(("weight_g", 1.4, 0.02),),
    ),
    Part(
        "CMP-HOUS",
        "Transducer housing",
        "component",
        "ea",
        process=("moulding_machine",),
        hours=(10, 20),
        measurements=(("weight_g", 9.8, 0.08),),
    ),
    Part(
        "CMP-SEAL",
        "Silicone diaphragm",
        "component",
        "ea",
        process=("moulding_machine",),
        hours=(6, 12),
        measurements=(("thickness_mm", 0.50, 0.01),),
    ),
    # Subassemblies
    Part(
        "SA-DCA",
        "Drip chamber assembly",
        "subassembly",
        "ea",
        process=("bonding_station",),
        hours=(6, 14),
        measurements=(("bond_strength_n", 48.0, 2.5),),
    ),
    Part(
        "SA-CATH",
        "Catheter assembly",
        "subassembly",
        "ea",
        process=("bonding_station",),
        hours=(6, 14),
        measurements=(("bond_strength_n", 36.0, 2.0),),
    ),
    Part(
        "SA-SENS",
        "Sensor assembly",
        "subassembly",
        "ea",
        process=("bonding_station", "pressure_tester"),
        hours=(8, 16),
        measurements=(("offset_mmhg", 0.0, 0.3),),
    ),
    # Finished devices
    Part(
        "FG-IVS",
        "Infusion set, 180 cm, needle-free valve",
        "finished",
        "ea",
        process=("assembly_line", "leak_tester", "steriliser"),
        gtin=gtin14(PLANT_PREFIX, "00010"),
        shelf_life_days=1095,
        hours=(4, 6),
        measurements=(("leak_kpa", 0.0, 0.2), ("flow_ml_min", 120.0, 4.0)),
    ),
    Part(
        "FG-CVC",
        "Central venous catheter kit, 7 Fr, 3 lumen",
        "finished",
        "ea",
        process=("assembly_line", "leak_tester", "steriliser"),
        gtin=gtin14(PLANT_PREFIX, "00027"),
        shelf_life_days=730,
        hours=(5, 8),
        measurements=(("leak_kpa", 0.0, 0.2), ("tip_tensile_n", 15.0, 0.8)),
    ),
    Part(
        "FG-PTX",
        "Disposable pressure transducer kit",
        "finished",
        "ea",
        process=("assembly_line", "pressure_tester", "steriliser"),
        gtin=gtin14(PLANT_PREFIX, "00034"),
        shelf_life_days=1095,
        hours=(5, 8),
        measurements=(("accuracy_mmhg", 0.0, 0.5),),
    ),
)

PARTS_BY_CODE: dict[str, Part] = {p.code: p for p in PARTS}

#: (parent, component, quantity per parent)
BOM: tuple[tuple[str, str, float], ...] = (
    ("CMP-TUB", "RM-PVC", 0.0125),
    ("CMP-TUB", "RM-MB", 0.0002),
    ("CMP-CATH", "RM-PU", 0.0040),
    ("CMP-CATH", "RM-BASO4", 0.0010),
    ("CMP-DCH", "RM-PP", 0.0045),
    ("CMP-CLAMP", "RM-ABS", 0.0022),
    ("CMP-HUB", "RM-PC", 0.0015),
    ("CMP-HOUS", "RM-PC", 0.0100),
    ("CMP-SEAL", "RM-LSR", 0.0006),
    ("SA-DCA", "CMP-DCH", 1),
    ("SA-DCA", "PC-SPIKE", 1),
    ("SA-DCA", "PC-FILT", 1),
    ("SA-DCA", "RM-ADH", 0.0002),
    ("SA-CATH", "CMP-CATH", 1),
    ("SA-CATH", "CMP-HUB", 1),
    ("SA-CATH", "PC-LUER", 1),
    ("SA-CATH", "RM-ADH", 0.0001),
    ("SA-SENS", "CMP-HOUS", 1),
    ("SA-SENS", "PC-SENS", 1),
    ("SA-SENS", "PC-CABLE", 1),
    ("SA-SENS", "CMP-SEAL", 1),
    ("SA-SENS", "RM-ADH", 0.0003),
    ("FG-IVS", "SA-DCA", 1),
    ("FG-IVS", "CMP-TUB", 1.8),
    ("FG-IVS", "CMP-CLAMP", 1),
    ("FG-IVS", "PC-LUER", 1),
    ("FG-IVS", "PC-NFV", 1),
    ("FG-IVS", "PK-POUCH", 1),
    ("FG-IVS", "PK-LABEL", 1),
    ("FG-CVC", "SA-CATH", 1),
    ("FG-CVC", "PC-STOP", 1),
    ("FG-CVC", "CMP-TUB", 0.3),
    ("FG-CVC", "PK-POUCH", 1),
    ("FG-CVC", "PK-LABEL", 1),
    ("FG-PTX", "SA-SENS", 1),
    ("FG-PTX", "CMP-TUB", 1.2),
    ("FG-PTX", "PC-STOP", 1),
    ("FG-PTX", "PC-LUER", 2),
    ("FG-PTX", "PK-POUCH", 1),
    ("FG-PTX", "PK-LABEL", 1),
)

PRODUCTS: tuple[Product, ...] = (
    Product("FG-IVS", "IVS", 0.6, case_size=20, cases_per_pallet=24),
    Product("FG-CVC", "CVC", 0.25, case_size=10, cases_per_pallet=30),
    Product("FG-PTX", "PTX", 0.15, case_size=10, cases_per_pallet=20),
)

#: The plant's registrant code with China's MA (IDcode) issuing agency (fictional).
MA_REGISTRANT = "100888"
#: Products labelled for the Chinese market with an MA code instead of their GTIN (``market="cn"``):
#: part code -> MA device identifier ``MA.156.M0.{registrant}.{packaging level}{item}{check}``,
#: here packaging level 1 (the sales unit) and item 0000101. The check character's algorithm is
#: not public, so this one is arbitrary; parsers report it as unverified.
MA_DIS: dict[str, str] = {"FG-IVS": f"MA.156.M0.{MA_REGISTRANT}.100001017"}


def ma_yymmdd(iso_day: str) -> str:
    """``2024-03-05`` -> ``240305``, the date form of the MA code's ``.M`` and ``.E`` fields."""
    return iso_day[2:4] + iso_day[5:7] + iso_day[8:10]


def ma_label(di: str, *, serial: str, lot: str | None, manufactured: str | None, expiry: str | None) -> str:
    """The text of a unit's MA code as its label carries it: DI, then ``.S`` serial, ``.M``
    manufacture date, ``.L`` lot and ``.E`` expiry (dates YYMMDD).

    >>> ma_label("MA.156.M0.100888.100001017", serial="IVS000000001", lot="24030501",
    ...          manufactured="2024-03-05", expiry="2027-03-05")
    'MA.156.M0.100888.100001017.SIVS000000001.M240305.L24030501.E270305'
    """
    text = f"{di}.S{serial}"
    if manufactured:
        text += f".M{ma_yymmdd(manufactured)}"
    if lot:
        text += f".L{lot}"
    if expiry:
        text += f".E{ma_yymmdd(expiry)}"
    return text


@dataclass(frozen=True)
class MachineType:
    type: str
    label: str
    count: int
    calibration_days: int
    model: str


MACHINE_TYPES: tuple[MachineType, ...] = (
    MachineType("extruder", "Tubing extruder", 3, 180, "EX45"),
    MachineType("moulding_machine", "Injection moulding machine", 6, 180, "IM110"),
    MachineType("bonding_station", "UV bonding station", 3, 90, "UVB2"),
    MachineType("assembly_line", "Final assembly line", 3, 365, "FAL7"),
    MachineType("leak_tester", "Leak tester", 3, 90, "LT300"),
    MachineType("pressure_tester", "Pressure accuracy tester", 2, 90, "PT90"),
    MachineType("steriliser", "EO steriliser", 2, 365, "EO24"),
)

_MACHINE_CODES = {
    "extruder": "EXT",
    "moulding_machine": "IMM",
    "bonding_station": "BND",
    "assembly_line": "ASM",
    "leak_tester": "LKT",
    "pressure_tester": "PRT",
    "steriliser": "STE",
}


@dataclass
class Machine:
    key: str
    code: str
    type: MachineType
    serial_number: str
    #: Epoch second until which it is booked; work orders go to the machine free first.
    busy_until: int = 0
    uses: list[tuple[int, int]] = field(default_factory=list)


def machine_code(type_: str, number: int) -> str:
    return f"{_MACHINE_CODES[type_]}-{number:02d}"


def low_level_codes() -> dict[str, int]:
    """MRP low-level code of every part: its deepest position below a finished product.

    Planning in this order means every demand on a part is known before its supply is planned.
    """
    children: dict[str, list[str]] = {}
    for parent, child, _qty in BOM:
        children.setdefault(parent, []).append(child)
    level: dict[str, int] = {}

    def visit(code: str, depth: int) -> None:
        if level.get(code, -1) >= depth:
            return
        level[code] = depth
        for child in children.get(code, ()):
            visit(child, depth + 1)

    for product in PRODUCTS:
        visit(product.part, 0)
    return level
