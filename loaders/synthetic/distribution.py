"""From finished lots to hospitals: devices, packing, shipping, repacking, complaints.

Finished lots are handled one at a time in production order, and every row is written as
soon as it is known, so memory stays flat however many devices there are:

1. the lot's devices are serialised over its assembly window;
2. at release they are packed into cases (SSCC) and the cases onto pallets;
3. pallets ship to distributors (late lots stay on hand at the plant);
4. a distributor unpacks each pallet; some cases go on whole to a hospital, the others are
   unpacked into pick stock, and some emptied cases are kept for reuse;
5. hospital orders are picked from stock and packed into new or *reused* cases.

Step 5 is why containment intervals matter: a reused case carries other devices to other
hospitals later, so a plain reachability trace from a device that was once inside it
over-recalls, while the time-respecting trace does not.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections import deque
from dataclasses import dataclass, field

from loaders.synthetic.catalogue import MA_DIS, PLANT_GLN, PLANT_PREFIX, PRODUCTS, gln13, sscc18
from loaders.synthetic.clock import DAY, HOUR, MINUTE, iso_date, iso_time
from loaders.synthetic.defects import Mislabel
from loaders.synthetic.manifest import Defect, ScaleProfile
from loaders.synthetic.output import PlantWriter
from loaders.synthetic.production import WorkOrder, product_gtins
from schema.kinds import EdgeType, NodeKind

PLANT_KEY = f"414/{PLANT_GLN}"
CARRIERS = ("Alpine Freight", "EuroMed Logistics", "Swift Parcel", "Rhenus Healthcare")
#: A devices.csv row: gtin, MA DI, serial, lot, work order, produced at, manufactured, expiry.
_DeviceRow = tuple[str | None, str | None, str, str, str, str, str, str]
#: Cases a distributor packs for hospital orders hold at most this many devices.
ORDER_CASE_CAPACITY = 40


@dataclass(frozen=True)
class Country:
    """Where a distributor and its hospitals are, with fictional GS1 prefixes for their numbers."""

    code: str
    distributor: str
    distributor_prefix: str
    hospital_prefix: str
    street: str
    #: Hospital names, ``{c}`` for the city; the last one names a clinic.
    templates: tuple[str, ...]
    cities: tuple[str, ...]
    #: Addresses of the distributor's warehouse and of hospitals: ``{n}`` number, ``{c}`` city.
    depot: str = "Logistikpark {n}, {c}"
    ward: str = "{street} {n}, {c}"
    #: Province (region) of each city, where the regulator is organised by province.
    provinces: tuple[str, ...] = ()
    #: The distributor's distribution licence number, ``{n}`` the site's number.
    licence: str = ""


COUNTRIES: tuple[Country, ...] = (
    Country(
        "DE",
        "MedLog Distribution Süd GmbH",
        "4012345",
        "4399901",
        "Klinikstraße",
        ("Klinikum {c}", "Universitätsklinikum {c}", "Praxisklinik {c}"),
        (
            "München",
            "Augsburg",
            "Freiburg",
            "Stuttgart",
            "Ulm",
            "Regensburg",
            "Würzburg",
            "Nürnberg",
            "Passau",
            "Ingolstadt",
        ),
    ),
    Country(
        "CH",
        "Helvetic Medical Supply AG",
        "7601234",
        "7601001",
        "Spitalstrasse",
        ("Kantonsspital {c}", "Universitätsspital {c}", "Klinik {c}"),
        ("Zürich", "Bern", "Basel", "Luzern", "St. Gallen", "Aarau", "Winterthur", "Chur", "Lugano", "Sion"),
    ),
    Country(
        "FR",
        "Hospitalia Logistique SAS",
        "3012345",
        "3760001",
        "Rue de l'Hôpital",
        ("Centre Hospitalier de {c}", "CHU de {c}", "Clinique de {c}"),
        ("Lyon", "Grenoble", "Annecy", "Dijon", "Besançon", "Strasbourg", "Nancy", "Metz", "Reims", "Mulhouse"),
    ),
    Country(
        "IT",
        "Farmaservice Nord S.p.A.",
        "8012345",
        "8056001",
        "Via dell'Ospedale",
        ("Ospedale di {c}", "Policlinico di {c}", "Casa di Cura {c}"),
        ("Milano", "Torino", "Bergamo", "Brescia", "Verona", "Padova", "Trento", "Bolzano", "Como", "Novara"),
    ),
    Country(
        "GB",
        "CareChain Medical Ltd",
        "5012345",
        "5060001",
        "Hospital Road",
        ("{c} General Hospital", "{c} Royal Infirmary", "{c} Clinic"),
        (
            "Leeds",
            "York",
            "Sheffield",
            "Manchester",
            "Liverpool",
            "Bristol",
            "Oxford",
            "Cambridge",
            "Norwich",
            "Exeter",
        ),
    ),
    Country(
        "ES",
        "Iberomed Distribución SL",
        "8412345",
        "8437001",
        "Calle del Hospital",
        ("Hospital Universitario de {c}", "Hospital General de {c}", "Clínica {c}"),
        ("Madrid", "Zaragoza", "Valencia", "Sevilla", "Bilbao", "Málaga", "Murcia", "Granada", "Oviedo", "Vigo"),
    ),
    Country(
        "SE",
        "Nordic Care Logistics AB",
        "7312345",
        "7350001",
        "Sjukhusvägen",
        ("{c} universitetssjukhus", "{c} lasarett", "{c} vårdcentral"),
        ("Uppsala", "Lund", "Malmö", "Göteborg", "Linköping", "Örebro", "Umeå", "Västerås", "Karlstad", "Gävle"),
    ),
    Country(
        "NL",
        "Benelux Medical Depot BV",
        "8712345",
        "8719001",
        "Ziekenhuisweg",
        ("Ziekenhuis {c}", "Universitair Medisch Centrum {c}", "Kliniek {c}"),
        ("Utrecht", "Leiden", "Groningen", "Nijmegen", "Maastricht", "Eindhoven", "Zwolle", "Arnhem", "Breda", "Delft"),
    ),
)

#: The Chinese market (``market="cn"``): two distributors, east and north, with their hospitals.
COUNTRIES_CN: tuple[Country, ...] = (
    Country(
        "CN",
        "上海华东医疗器械供应链有限公司",
        "6901234",
        "6939001",
        "医院路",
        ("{c}市第一人民医院", "{c}市中心医院", "{c}社区卫生服务中心"),
        ("上海", "杭州", "南京", "苏州", "宁波", "无锡", "合肥", "温州", "常州", "嘉兴"),
        depot="{c}市物流园区{n}号",
        ward="{c}市{street}{n}号",
        provinces=("上海市", "浙江省", "江苏省", "江苏省", "浙江省", "江苏省", "安徽省", "浙江省", "江苏省", "浙江省"),
        licence="沪药监械经营许2019{n:04d}号",
    ),
    Country(
        "CN",
        "北京华北医疗器械经营有限公司",
        "6901235",
        "6939002",
        "健康路",
        ("{c}市人民医院", "{c}医科大学附属医院", "{c}社区卫生服务中心"),
        ("北京", "天津", "石家庄", "济南", "青岛", "太原", "保定", "唐山", "烟台", "大连"),
        depot="{c}市物流园区{n}号",
        ward="{c}市{street}{n}号",
        provinces=("北京市", "天津市", "河北省", "山东省", "山东省", "山西省", "河北省", "河北省", "山东省", "辽宁省"),
        licence="京药监械经营许2020{n:04d}号",
    ),
)

#: A device key's product: its serial starts with the product's short code.
_PART_OF_SHORT = {p.short: p.part for p in PRODUCTS}


def part_of_device(device: str) -> str:
    """The finished part a generated device is a unit of (``…/21/IVS000000123`` -> ``FG-IVS``)."""
    return _PART_OF_SHORT[device.rsplit("/", 1)[1][:3]]


#: Background complaints: failure mode and severity, by product. An injected defect's failure
#: mode is one more ordinary mode of every product it reaches (see ``Distribution``).
_FAILURE_MODES: dict[str, tuple[tuple[str, str], ...]] = {
    "FG-IVS": (
        ("occlusion during infusion", "medium"),
        ("drip chamber cracked", "medium"),
        ("clamp does not close", "low"),
        ("packaging seal open", "medium"),
    ),
    "FG-CVC": (("catheter tip fractured", "critical"), ("lumen occluded", "high"), ("packaging seal open", "medium")),
    "FG-PTX": (("pressure reading drift", "high"), ("cable connector loose", "medium"), ("label unreadable", "low")),
}


@dataclass
class Consignee:
    key: str
    code: str
    name: str
    type: str
    address: str
    country: str
    #: Province or region, where the market names one (China).
    region: str | None = None
    #: Distribution licence (distributors) or practice licence (hospitals), where the market has them.
    licence: str | None = None
    #: Distributors: GS1 prefix of their own cases, and how they handle incoming cases.
    prefix: str = ""
    whole_case_share: float = 0.0
    reuse_share: float = 0.0
    hospitals: list[Consignee] = field(default_factory=list)


@dataclass
class Case:
    key: str
    devices: list[str]
    packed_at: int
    unpacked_at: int | None = None


@dataclass
class Distributor:
    """A distributor's warehouse as the simulation goes: its clock, stock and empty cases."""

    site: Consignee
    reserve: int
    clock: int = 0
    stock: deque[tuple[str, int]] = field(default_factory=deque)  # (device, available from)
    empty_cases: deque[tuple[str, int]] = field(default_factory=deque)  # (case, emptied at)
    whole_cases: deque[tuple[Case, int]] = field(default_factory=deque)  # (case, available from)
    cases_made: int = 0
    shipments: int = 0
    repacked_cases: int = 0


@dataclass
class Complaint:
    device: str
    received_at: int
    failure_mode: str
    severity: str
    description: str
    caused_by_defect: bool


@dataclass
class Tour:
    """Keys the distribution step remembers for the manifest's guided tour."""

    finished_device: str = ""
    finished_device_hospital: str = ""
    on_hand_pallet: str = ""
    #: Cases put aside empty for reuse: case → the devices it held first (first few only).
    pooled: dict[str, list[str]] = field(default_factory=dict)
    #: Reuses of those cases: (case, consignee it went to with its new contents).
    reuses: list[tuple[str, str]] = field(default_factory=list)
    #: Where watched devices (the first contents of pooled cases) went.
    watched: dict[str, str] = field(default_factory=dict)
    #: Market cn: the first MA-coded device that reached a hospital, per lot key.
    ma_devices: dict[str, str] = field(default_factory=dict)


class Distribution:
    """Streams the device-level part of the plant into ``out``; see the module docstring."""

    #: An injected ``mislabelled_lot``: whose devices get the previous lot's labels.
    mislabel: Mislabel | None = None

    def __init__(
        self,
        rng: random.Random,
        out: PlantWriter,
        *,
        start: int,
        end: int,
        shipping_cutoff: int,
        profile: ScaleProfile,
        defect: Defect | None = None,
        affected_lots: frozenset[str] = frozenset(),
        market: str = "eu",
    ) -> None:
        self.rng = rng
        self.out = out
        self.start = start
        self.end = end
        self.shipping_cutoff = shipping_cutoff
        self.profile = profile
        self.defect = defect
        self.affected_lots = affected_lots
        self.countries = COUNTRIES_CN if market == "cn" else COUNTRIES
        #: Products labelled with an MA code instead of their GTIN: part code -> MA DI.
        self.ma_dis = MA_DIS if market == "cn" else {}
        self.affected_devices: list[str] = []
        self.affected_set: set[str] = set()
        self.complaints: list[Complaint] = []
        self.tour = Tour()
        self.serials: dict[str, int] = {}
        #: Per product: (first serial number, lot key) of every lot, to find a device's lot.
        self.lot_ranges: dict[str, list[tuple[int, str]]] = {}
        self.plant_containers = 0
        self.plant_shipments = 0
        # About ``profile.complaints`` background complaints over the devices that reach hospitals.
        self.complaint_rate = profile.complaints / max(1.0, 0.8 * profile.devices)
        #: The products an injected defect reaches, for which its failure mode is an ordinary one.
        self.defect_products = _products_of(affected_lots) if defect is not None else frozenset()
        # Draws an injected defect adds to background complaints come from a stream of their
        # own, seeded from this one's state without drawing from it: every other draw, and so
        # every node and edge of the plant, stays what it is without the defect.
        state = hashlib.sha256(repr(rng.getstate()).encode()).hexdigest()
        self.background_rng = random.Random(f"{state}:background complaints")
        self.distributors = [Distributor(site, reserve=max(10, profile.lot_size // 2)) for site in self._consignees()]
        self.weights = [1.0 + 0.5 * (i % 3) for i in range(len(self.distributors))]

    # -- consignees ----------------------------------------------------------------------
    def _consignees(self) -> list[Consignee]:
        """The distributors, each with the hospitals of its country it serves."""
        rng = self.rng
        distributors: list[Consignee] = []
        countries = self.countries
        for i in range(self.profile.distributors):
            country = countries[i % len(countries)]
            second = i >= len(countries)  # more distributors than countries: a second site
            home = 1 if second else 0  # the city of its warehouse
            distributors.append(
                Consignee(
                    key=f"414/{gln13(country.distributor_prefix, 1 + i // len(countries))}",
                    code=f"DST{i + 1:02d}",
                    name=f"{country.distributor} ({country.cities[1]})" if second else country.distributor,
                    type="distributor",
                    address=country.depot.format(n=rng.randint(1, 40), c=country.cities[home]),
                    country=country.code,
                    region=country.provinces[home] if country.provinces else None,
                    licence=country.licence.format(n=i + 1) or None,
                    prefix=country.distributor_prefix,
                    # The first distributor repacks most; the others vary.
                    whole_case_share=0.15 if i == 0 else rng.uniform(0.25, 0.6),
                    reuse_share=0.6 if i == 0 else rng.uniform(0.2, 0.5),
                )
            )
        for j in range(self.profile.hospitals):
            owner = distributors[j % len(distributors)]
            country = countries[(j % len(distributors)) % len(countries)]  # the owner's
            n = j // len(distributors)  # the owner's n-th hospital
            template = country.templates[(n // len(country.cities)) % len(country.templates)]
            city = country.cities[n % len(country.cities)]
            owner.hospitals.append(
                Consignee(
                    key=f"414/{gln13(country.hospital_prefix, 100 + j)}",
                    code=f"H{j + 1:04d}",
                    name=template.format(c=city),
                    type="clinic" if template == country.templates[-1] else "hospital",
                    address=country.ward.format(street=country.street, n=rng.randint(1, 120), c=city),
                    country=country.code,
                    region=country.provinces[n % len(country.cities)] if country.provinces else None,
                    # A hospital's practice licence (医疗机构执业许可证) registration number.
                    licence=f"PDY{100 + j:05d}{country.hospital_prefix[-3:]}" if country.provinces else None,
                )
            )
        return distributors

    def _write_consignees(self) -> None:
        for d in self.distributors:
            for site in (d.site, *d.site.hospitals):
                self.out.write("consignees.csv", (site.key, site.name, site.type, site.address, site.country))
                self.out.nodes_added(NodeKind.CONSIGNEE)

    # -- the stream ----------------------------------------------------------------------
    def run(self, finished: list[WorkOrder]) -> None:
        """Write the consignees, then every finished lot's devices and their way to hospitals."""
        self._write_consignees()
        for index, work_order in enumerate(finished):
            self._lot(work_order, last=index == len(finished) - 1)

    def _lot(self, work_order: WorkOrder, *, last: bool) -> None:
        rng, out = self.rng, self.out
        lot = work_order.output
        assert lot is not None and work_order.part.gtin is not None
        product = next(p for p in PRODUCTS if p.part == work_order.part.code)
        di = self.ma_dis.get(product.part)
        gtin = None if di is not None else work_order.part.gtin
        manufactured = iso_date(work_order.start)
        expiry = iso_date(work_order.start + (work_order.part.shelf_life_days or 0) * DAY)
        count = int(work_order.quantity)

        # 1. Serialise the devices over the assembly window.
        first = work_order.start + 30 * MINUTE
        span = max(count, work_order.assembled - first)
        step = span // count
        serial_base = self.serials.get(product.short, 0)
        self.serials[product.short] = serial_base + count
        self.lot_ranges.setdefault(product.short, []).append((serial_base + 1, lot.key))
        devices: list[str] = []
        rows = []
        for i in range(count):
            serial = f"{product.short}{serial_base + i + 1:09d}"
            produced = first + i * step + rng.randrange(step)
            devices.append(f"01/{gtin}/21/{serial}" if di is None else f"ma/{di}/21/{serial}")
            rows.append((gtin, di, serial, lot.lot_number, work_order.key, iso_time(produced), manufactured, expiry))
        rows = self._relabel(work_order, rows, devices)
        out.write_many("devices.csv", rows)
        out.nodes_added(NodeKind.DEVICE, count)
        out.edges_added(EdgeType.INCLUDES, count)
        out.edges_added(EdgeType.PRODUCED, count)
        if lot.key in self.affected_lots:
            self.affected_devices.extend(devices)
            self.affected_set.update(devices)

        # 2. Pack at release: devices into cases, cases onto pallets.
        release = work_order.finish + int(rng.uniform(2, 6) * HOUR)
        cases = [
            Case(
                self._plant_sscc(), devices[i : i + product.case_size], release + (i // product.case_size) * 3 * MINUTE
            )
            for i in range(0, count, product.case_size)
        ]
        pallets: list[tuple[str, list[Case], int]] = []
        for i in range(0, len(cases), product.cases_per_pallet):
            load = cases[i : i + product.cases_per_pallet]
            pallets.append((self._plant_sscc(), load, load[-1].packed_at + 10 * MINUTE))
        out.nodes_added(NodeKind.CONTAINER, len(cases) + len(pallets))

        # 3. Ship pallets to distributors, unless the lot is still on hand at the end.
        pallet_unpacked: dict[str, int] = {}
        arrivals: list[tuple[Distributor, list[tuple[str, list[Case], int]], int]] = []
        if last or work_order.finish >= self.shipping_cutoff:
            self.tour.on_hand_pallet = pallets[0][0]
        else:
            by_distributor: dict[int, list[tuple[str, list[Case], int]]] = {}
            for pallet in pallets:
                d = rng.choices(range(len(self.distributors)), self.weights)[0]
                by_distributor.setdefault(d, []).append(pallet)
            for d in sorted(by_distributor):
                distributor = self.distributors[d]
                shipped = release + int(rng.uniform(1, 4) * DAY)
                shipped -= shipped % HOUR
                delivered = shipped + int(rng.uniform(18, 72) * HOUR)
                self.plant_shipments += 1
                shipment = f"shipment:SH-{self.plant_shipments:07d}"
                self._shipment(shipment, PLANT_KEY, distributor.site.key, shipped, delivered)
                for pallet_key, _load, _packed in by_distributor[d]:
                    out.write("shipment_contents.csv", (shipment, pallet_key, iso_time(shipped), None))
                    out.edges_added(EdgeType.SHIPPED_IN)
                    pallet_unpacked[pallet_key] = delivered + int(rng.uniform(2, 20) * HOUR)
                arrivals.append((distributor, by_distributor[d], delivered))

        # 4. At the distributor: pallets unpacked; cases forwarded whole or unpacked into stock.
        for distributor, load_list, _delivered in arrivals:
            for pallet_key, load, _packed in load_list:
                unpacked = pallet_unpacked[pallet_key]
                for case in load:
                    if rng.random() < distributor.site.whole_case_share:
                        distributor.whole_cases.append((case, unpacked))
                        continue
                    case.unpacked_at = unpacked + int(rng.uniform(0.5, 6) * HOUR)
                    distributor.stock.extend((device, case.unpacked_at) for device in case.devices)
                    if rng.random() < distributor.site.reuse_share:
                        distributor.empty_cases.append((case.key, case.unpacked_at))
                        if len(self.tour.pooled) < 200:
                            self.tour.pooled[case.key] = case.devices[:3]
                            for device in case.devices[:3]:
                                self.tour.watched[device] = ""

        # Now every interval of this lot's packing is known: write it.
        for pallet_key, load, pallet_packed in pallets:
            until = pallet_unpacked.get(pallet_key)
            pallet_until = None if until is None else iso_time(until)
            for case in load:
                packed = iso_time(case.packed_at)
                emptied = None if case.unpacked_at is None else iso_time(case.unpacked_at)
                out.write_many("packing.csv", [(device, case.key, packed, emptied, "case") for device in case.devices])
                out.edges_added(EdgeType.PACKED_IN, len(case.devices))
            out.write_many(
                "packing.csv",
                [(case.key, pallet_key, iso_time(pallet_packed), pallet_until, "pallet") for case in load],
            )
            out.edges_added(EdgeType.PACKED_IN, len(load))

        # 5. Hospital orders from every distributor that received something.
        for distributor, _pallets, _delivered in arrivals:
            self._fulfil(distributor)

    def _relabel(self, work_order: WorkOrder, rows: list[_DeviceRow], devices: list[str]) -> list[_DeviceRow]:
        """An injected mislabelling: the first devices of the lot carry the previous lot's labels."""
        wrong = self.mislabel
        if wrong is None or wrong.work_order != work_order.key:
            return rows
        relabelled = [
            (gtin, di, serial, wrong.lot_number, wo, at, wrong.manufactured, wrong.expiry)
            for gtin, di, serial, _lot, wo, at, _made, _expiry in rows
        ]
        count = min(wrong.count, len(rows))
        self.affected_devices.extend(devices[:count])
        self.affected_set.update(devices[:count])
        return relabelled[:count] + rows[count:]

    def lot_of(self, device: str) -> str:
        """The lot key of one of the generated devices (``…/21/{short}{number}``)."""
        serial = device.rsplit("/", 1)[1]
        short, number = serial[:3], int(serial[3:])
        ranges = self.lot_ranges[short]
        return ranges[bisect.bisect_right(ranges, (number, "\uffff")) - 1][1]

    def ensure_a_complaint(self) -> None:
        """Even an unlucky small plant has one complaint to show."""
        if not self.complaints and self.tour.finished_device:
            mode, severity = _FAILURE_MODES[part_of_device(self.tour.finished_device)][0]
            self.complaints.append(
                Complaint(self.tour.finished_device, self.end, mode, severity, f"Reported by user: {mode}.", False)
            )

    def _plant_sscc(self) -> str:
        self.plant_containers += 1
        return "00/" + sscc18(PLANT_PREFIX, self.plant_containers)

    def _shipment(self, shipment: str, origin: str, consignee: str, shipped: int, delivered: int) -> None:
        carrier = CARRIERS[self.rng.randrange(len(CARRIERS))]
        self.out.write("shipments.csv", (shipment, origin, consignee, iso_time(shipped), iso_time(delivered), carrier))
        self.out.nodes_added(NodeKind.SHIPMENT)
        self.out.edges_added(EdgeType.DELIVERED_TO)

    # -- distributors --------------------------------------------------------------------
    def _fulfil(self, d: Distributor) -> None:
        """Ship what the distributor can: whole cases first, then picked orders above its reserve."""
        rng = self.rng
        while d.whole_cases:
            group = [d.whole_cases.popleft() for _ in range(min(len(d.whole_cases), rng.randint(1, 3)))]
            shipped = max(d.clock, max(available for _case, available in group)) + int(rng.uniform(0.2, 2) * HOUR)
            if shipped > self.end:
                d.whole_cases.extendleft(reversed(group))  # stays on hand
                break
            d.clock = shipped
            self._to_hospital(
                d, [case.key for case, _ in group], [dev for case, _ in group for dev in case.devices], shipped
            )

        low, high = max(5, self.profile.lot_size // 10), max(12, self.profile.lot_size // 4)
        while True:
            size = rng.randint(low, high)
            if len(d.stock) < d.reserve + size:
                break
            picked = [d.stock.popleft() for _ in range(size)]
            packed = max(d.clock, max(available for _dev, available in picked)) + int(rng.uniform(0.2, 2) * HOUR)
            if packed > self.end:
                d.stock.extendleft(reversed(picked))  # stays on hand
                break
            d.clock = packed
            devices = [device for device, _ in picked]
            containers = []
            stamp = iso_time(packed)
            for i in range(0, len(devices), ORDER_CASE_CAPACITY):
                content = devices[i : i + ORDER_CASE_CAPACITY]
                container = self._order_case(d, packed)
                containers.append(container)
                self.out.write_many("packing.csv", [(device, container, stamp, None, "case") for device in content])
                self.out.edges_added(EdgeType.PACKED_IN, len(content))
            d.repacked_cases += len(containers)
            hospital = self._to_hospital(d, containers, devices, packed + int(rng.uniform(1, 6) * HOUR))
            if not self.tour.finished_device:
                self.tour.finished_device, self.tour.finished_device_hospital = devices[0], hospital

    def _order_case(self, d: Distributor, packed: int) -> str:
        """An emptied case when one is ready (emptied before now), else a new one of the distributor's."""
        if d.empty_cases and d.empty_cases[0][1] < packed:
            return d.empty_cases.popleft()[0]
        d.cases_made += 1
        self.out.nodes_added(NodeKind.CONTAINER)
        return "00/" + sscc18(d.site.prefix, 900_000_000 + d.cases_made)

    def _to_hospital(self, d: Distributor, containers: list[str], devices: list[str], shipped: int) -> str:
        rng = self.rng
        hospital = d.site.hospitals[rng.randrange(len(d.site.hospitals))] if d.site.hospitals else d.site
        delivered = shipped + int(rng.uniform(12, 48) * HOUR)
        d.shipments += 1
        shipment = f"shipment:{d.site.code}-{d.shipments:06d}"
        self._shipment(shipment, d.site.key, hospital.key, shipped, delivered)
        stamp = iso_time(shipped)
        self.out.write_many("shipment_contents.csv", [(shipment, c, stamp, None) for c in containers])
        self.out.edges_added(EdgeType.SHIPPED_IN, len(containers))
        for container in containers:
            if container in self.tour.pooled:
                self.tour.reuses.append((container, hospital.key))
        watched, affected = self.tour.watched, self.affected_set
        if self.ma_dis:
            for device in devices:
                if device.startswith("ma/"):
                    self.tour.ma_devices.setdefault(self.lot_of(device), device)
        for device in devices:
            if device in watched:
                watched[device] = hospital.key
            self._maybe_complaint(device, delivered, device in affected)
        return hospital.key

    def _maybe_complaint(self, device: str, delivered: int, affected: bool) -> None:
        """Maybe a complaint on a device delivered at ``delivered``.

        A unit an injected defect reached draws the defect's complaint at its
        ``complaint_rate``; every unit, reached or not, otherwise draws a background complaint
        at the plant's rate, whose failure mode is one of its product's ordinary modes, the
        defect's among them when the defect reaches the product. Only complaints of the first
        kind are ``caused_by_defect``: the ground truth.
        """
        rng = self.rng
        if affected and self.defect is not None:
            if rng.random() < self.defect.complaint_rate:
                self._complain(device, delivered, self.defect.failure_mode, "high", caused=True, rng=rng)
            elif self.background_rng.random() < self.complaint_rate:
                mode, severity = self.background_rng.choice(self._background_modes(device))
                self._complain(device, delivered, mode, severity, caused=False, rng=self.background_rng)
            return
        if rng.random() >= self.complaint_rate:
            return
        ordinary = _FAILURE_MODES[part_of_device(device)]
        mode, severity = rng.choice(ordinary)
        modes = self._background_modes(device)
        # The defect's mode, drawn as often as any other ordinary mode (the main stream's
        # draw above stays as it was without a defect).
        if len(modes) > len(ordinary) and self.background_rng.random() < 1 / len(modes):
            mode, severity = modes[-1]
        self._complain(device, delivered, mode, severity, caused=False, rng=rng)

    def _background_modes(self, device: str) -> tuple[tuple[str, str], ...]:
        """The ordinary failure modes of a device's product, the injected defect's last when it
        reaches the product (and is not one of them already)."""
        part = part_of_device(device)
        modes = _FAILURE_MODES[part]
        defect = self.defect
        if defect is None or part not in self.defect_products or any(m == defect.failure_mode for m, _ in modes):
            return modes
        return (*modes, (defect.failure_mode, "high"))

    def _complain(
        self, device: str, delivered: int, mode: str, severity: str, *, caused: bool, rng: random.Random
    ) -> None:
        received = delivered + int(rng.uniform(3, 120) * DAY)
        if received > self.end + 30 * DAY:
            return
        description = f"Reported by user: {mode}."
        self.complaints.append(Complaint(device, received, mode, severity, description, caused))


def _products_of(lots: frozenset[str]) -> frozenset[str]:
    """The finished parts (``FG-IVS``, ...) of finished-lot keys (``01/{GTIN}/10/…``, ``ma/{DI}/10/…``)."""
    by_id = {gtin: part for part, gtin in product_gtins().items()} | {di: part for part, di in MA_DIS.items()}
    return frozenset(by_id[key.split("/10/")[0].split("/", 1)[1]] for key in lots if "/10/" in key)
