"""The NMPA recall documents (《医疗器械召回管理办法》), as PDF, CSV and JSON, from a recall dossier.

``event``
    召回事件报告表: product, registration number, models, lots and units with their UDI,
    quantities made and sold in China, regions, reason and measures.
``investigation``
    调查评估报告: what is known bad, how the scope was found, the health-hazard evaluation.
``plan``
    召回计划: quantities to recall and to quarantine, scope, measures, time limits, handling.
``progress``
    召回计划实施情况报告: consignees to notify against notified, quantities recalled.
``notice``
    召回通知: what each consignee is asked to do, and which units it received.

Text is in the current language (:mod:`i18n`; the CLI writes Chinese unless told otherwise).
PDFs embed a Chinese TrueType font when one is given or installed (:func:`chinese_font`), so
every reader renders them alike; otherwise they name ReportLab's CID font STSong-Light, which the
reader supplies. A fact the dossier lacks is printed as missing and listed at the end, never
filled in.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from reportlab.pdfbase.ttfonts import TTFError, TTFont

from i18n import N_, gettext
from reports.pdf import Fonts, PdfReport, register_cid_font, register_font
from schema.errors import InvalidInputError
from schema.model import iso
from services.nmpa import LotLine, MissingFact, RecallDossier

_ = gettext

#: Document kinds and their titles (English msgids; shown in the current language).
KINDS: dict[str, str] = {
    "event": N_("Recall event report"),
    "investigation": N_("Investigation and evaluation report"),
    "plan": N_("Recall plan"),
    "progress": N_("Recall progress report"),
    "notice": N_("Recall notice"),
}

CID_FONT = "STSong-Light"

#: TrueType fonts with Chinese glyphs that Linux distributions install (WenQuanYi, AR PL, Droid),
#: tried in this order when no font is given. OpenType/CFF fonts (most Noto CJK files) cannot be
#: embedded by ReportLab and are skipped.
SYSTEM_CHINESE_FONTS: tuple[Path, ...] = tuple(
    Path(p)
    for p in (
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/usr/share/fonts/truetype/arphic/ukai.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
        "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    )
)
#: Characters a font must have to be used for the documents: common ones of their titles.
_CHINESE_SAMPLE = "医疗器械召回事件报告表计划一二三级"


@dataclass(frozen=True)
class ChineseFont:
    """The font the PDFs use: an embedded TrueType file, or the CID font the reader supplies."""

    fonts: Fonts
    name: str
    path: Path | None = None

    @property
    def embedded(self) -> bool:
        return self.path is not None

    def __str__(self) -> str:
        return f"{self.name} ({self.path}, embedded)" if self.path else f"{self.name} (CID, not embedded)"


@functools.cache
def _truetype(path: Path) -> ChineseFont:
    """Register the TrueType font at ``path`` if it can be embedded and has Chinese glyphs."""
    try:
        face = TTFont(f"TG-CJK-{path.stem}", str(path))
    except (OSError, TTFError) as exc:
        raise InvalidInputError(f"cannot use the font {path}: {exc}") from exc
    if any(ord(c) not in face.face.charToGlyph for c in _CHINESE_SAMPLE):
        raise InvalidInputError(f"the font {path} has no glyphs for Chinese; give a Chinese TrueType font")
    return ChineseFont(register_font(face.fontName, path), face.fontName, path)


def chinese_font(path: Path | None = None) -> ChineseFont:
    """The font for the documents: ``path`` (a TrueType ``.ttf``/``.ttc`` with Chinese glyphs; a
    font that cannot serve raises :class:`InvalidInputError`), else the first usable one of
    :data:`SYSTEM_CHINESE_FONTS`, else the CID font STSong-Light, which needs no file."""
    if path is not None:
        return _truetype(path)
    for candidate in SYSTEM_CHINESE_FONTS:
        if candidate.is_file():
            try:
                return _truetype(candidate)
            except InvalidInputError:
                continue
    return ChineseFont(register_cid_font(CID_FONT), CID_FONT)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInputError(f"unknown NMPA document {kind}; expected one of {', '.join(KINDS)}")
    return kind


def _v(value: object) -> str:
    """A value, or "missing" in the current language."""
    if value is None or value == "":
        return _("missing")
    return str(value)


#: Recall classes as the documents name them (一级召回, ...).
CLASS_NAMES = {1: N_("Class 1 recall"), 2: N_("Class 2 recall"), 3: N_("Class 3 recall")}


def _class_text(d: RecallDossier) -> str:
    return _(CLASS_NAMES[d.recall_class.value])


def _company(d: RecallDossier) -> list[tuple[str, str]]:
    return [
        (_("Registrant"), _v(d.company.name)),
        (_("Address"), _v(d.company.address)),
        (_("Contact"), _v(d.company.contact)),
        (_("Phone"), _v(d.company.phone)),
        (_("Licence number"), _v(d.company.licence)),
        (_("Recall class"), _class_text(d)),
        (_("Recall decided at"), _v(iso(d.decided_at))),
        (_("Starting from"), ", ".join(d.starts)),
    ]


# -- tables --------------------------------------------------------------------------------------


def _lot_number(lot: LotLine) -> str:
    """The lot number as the label prints it (批号), else the lot's key."""
    return lot.lot_number or lot.lot


def _lot_columns() -> list[str]:
    return [
        _("Product name"),
        _("Registration number"),
        _("Model"),
        _("Specification"),
        _("UDI-DI"),
        _("Lot"),
        _("Manufactured"),
        _("Expiry"),
        _("Quantity made"),
        _("In recall scope"),
        _("Shipped"),
        _("Sold in China"),
        _("On hand"),
    ]


def _lot_rows(d: RecallDossier) -> list[list[str]]:
    return [
        [
            _v(lot.product),
            _v(lot.registration_number),
            _v(lot.model),
            _v(lot.specification),
            _v(lot.udi_di),
            _lot_number(lot),
            _v(lot.manufactured),
            _v(lot.expiry),
            _v(lot.made),
            str(lot.in_scope),
            str(lot.shipped),
            str(lot.sold_in_china),
            str(lot.on_hand),
        ]
        for lot in d.lots
    ]


def _consignee_columns() -> list[str]:
    return [
        _("Consignee"),
        _("Name"),
        _("Country or region"),
        _("Address"),
        _("Licence number"),
        _("Units"),
        _("Lots"),
        _("Notified"),
        _("Units recalled"),
    ]


def _consignee_rows(d: RecallDossier) -> list[list[str]]:
    numbers = {lot.lot: _lot_number(lot) for lot in d.lots}
    return [
        [
            c.consignee,
            _v(c.name),
            _v(c.region or c.country),
            _v(c.address),
            _v(c.licence),
            _("passed on") if c.passed_on else str(c.units),
            ", ".join(numbers.get(k, k) for k in c.lots),
            _("yes") if c.notified else _("no"),
            str(c.recalled),
        ]
        for c in d.consignees
    ]


def _clock_rows(d: RecallDossier) -> list[list[str]]:
    return [[_(c.title), _(c.rule), _v(iso(c.due))] for c in d.clocks]


def _unit_rows(d: RecallDossier) -> list[list[str]]:
    return [[_lot_number(lot), serial] for lot in d.lots for serial in lot.serials]


def _totals(d: RecallDossier) -> list[tuple[str, str]]:
    return [
        (_("Quantity made"), str(d.made)),
        (_("Units in recall scope"), str(d.in_scope)),
        (_("Units shipped (to recall)"), str(d.shipped)),
        (_("Units sold in China"), str(d.sold_in_china)),
        (_("Units on hand (to quarantine)"), str(d.on_hand)),
        (_("Regions reached"), ", ".join(d.regions) or _("none")),
    ]


# -- PDF -------------------------------------------------------------------------------------------


def _pdf(d: RecallDossier, kind: str, font: ChineseFont | None) -> PdfReport:
    title = _(KINDS[kind])
    pdf = PdfReport(
        title,
        fonts=(font or chinese_font()).fonts,
        footer=f"TraceGraph · {title}",
        subject=_class_text(d),
        page_label=_("page {page} of {total}"),
    )
    pdf.title_block(title, _company(d), subtitle=_("Medical device recall (NMPA Order No. 29)"))
    if d.is_partial:
        pdf.paragraph(_("A server budget cut a trace short: the scope may be incomplete."))
    section: dict[str, Callable[[PdfReport, RecallDossier], None]] = {
        "event": _event,
        "investigation": _investigation,
        "plan": _plan,
        "progress": _progress,
        "notice": _notice,
    }
    section[kind](pdf, d)
    pdf.notes([missing_text(m) for m in d.missing], title=_("Facts still missing"))
    return pdf


def missing_text(fact: MissingFact) -> str:
    """One missing fact in the current language."""
    if fact.subject:
        return _("{fact} of {subject}").format(fact=_(fact.fact), subject=fact.subject)
    return _(fact.fact)


def _products(pdf: PdfReport, d: RecallDossier) -> None:
    pdf.heading(_("Products and lots"))
    pdf.data_table(_lot_columns(), _lot_rows(d), widths=[2.2, 1.6, 1, 1, 1.3, 2.6, 1, 1, 0.8, 0.8, 0.8, 0.8, 0.8])


def _event(pdf: PdfReport, d: RecallDossier) -> None:
    _products(pdf, d)
    pdf.heading(_("Quantities and regions"))
    pdf.key_values(_totals(d))
    pdf.heading(_("Reason and measures"))
    pdf.key_values([(_("Recall reason"), _v(d.recall.reason)), (_("Recall measures"), _v(d.recall.measures))])
    pdf.heading(_("Consignees"))
    pdf.data_table(_consignee_columns(), _consignee_rows(d), widths=[1.6, 2, 0.8, 2, 1.2, 0.6, 2.6, 0.6, 0.7])
    pdf.heading(_("Units (UDI)"))
    pdf.data_table([_("Lot"), _("UDI")], _unit_rows(d), widths=[1, 1.4])


def _investigation(pdf: PdfReport, d: RecallDossier) -> None:
    pdf.heading(_("What is known to be bad"))
    pdf.paragraph(", ".join(d.starts))
    pdf.heading(_("How the scope was found"))
    pdf.paragraph(
        _(
            "Every device reached downstream of the starting records in the traceability graph, with its "
            "probability of being affected at least {threshold}; consignees are where each device itself "
            "was delivered."
        ).format(threshold=f"{d.threshold:g}")
    )
    pdf.key_values(_totals(d))
    pdf.heading(_("How the defect reaches the lots"))
    pdf.data_table([_("Explaining path")], [[" → ".join(path)] for path in d.paths], empty=_("none"))
    pdf.heading(_("Health-hazard evaluation"))
    pdf.paragraph(_v(d.recall.evaluation))
    pdf.heading(_("Recall reason"))
    pdf.paragraph(_v(d.recall.reason))
    _products(pdf, d)


def _plan(pdf: PdfReport, d: RecallDossier) -> None:
    pdf.heading(_("Quantities to recall"))
    pdf.key_values(_totals(d))
    _products(pdf, d)
    pdf.heading(_("Recall scope: consignees"))
    pdf.data_table(_consignee_columns(), _consignee_rows(d), widths=[1.6, 2, 0.8, 2, 1.2, 0.6, 2.6, 0.6, 0.7])
    pdf.heading(_("Measures"))
    pdf.paragraph(_v(d.recall.measures))
    pdf.heading(_("Time limits"))
    pdf.data_table([_("Duty"), _("Rule"), _("Due")], _clock_rows(d), widths=[2, 2.5, 1])
    pdf.heading(_("Handling of recalled devices"))
    pdf.paragraph(_v(d.recall.handling))


def _progress(pdf: PdfReport, d: RecallDossier) -> None:
    notified = sum(1 for c in d.consignees if c.notified)
    pdf.heading(_("Progress"))
    pdf.key_values(
        [
            (_("Consignees to notify"), str(len(d.consignees))),
            (_("Consignees notified"), str(notified)),
            (_("Units to recall"), str(d.shipped)),
            (_("Units recalled"), str(d.recalled)),
        ]
    )
    pdf.heading(_("Consignees"))
    pdf.data_table(_consignee_columns(), _consignee_rows(d), widths=[1.6, 2, 0.8, 2, 1.2, 0.6, 2.6, 0.6, 0.7])


def _notice(pdf: PdfReport, d: RecallDossier) -> None:
    pdf.heading(_("To the distributors and users of these devices"))
    pdf.paragraph(
        _(
            "We are recalling the devices below ({recall_class}). Stop using and distributing them, "
            "keep them apart, and tell us how many you hold."
        ).format(recall_class=_class_text(d))
    )
    pdf.key_values(
        [
            (_("Recall reason"), _v(d.recall.reason)),
            (_("Recall measures"), _v(d.recall.measures)),
            (_("Contact"), _v(d.company.contact)),
            (_("Phone"), _v(d.company.phone)),
        ]
    )
    _products(pdf, d)
    pdf.heading(_("Consignees"))
    pdf.data_table(_consignee_columns(), _consignee_rows(d), widths=[1.6, 2, 0.8, 2, 1.2, 0.6, 2.6, 0.6, 0.7])


# -- CSV and JSON ----------------------------------------------------------------------------------


def csv_text(d: RecallDossier, kind: str) -> str:
    """The document's main table as CSV with headers in the current language: lots (event,
    investigation, plan) or consignees (progress, notice)."""
    check_kind(kind)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if kind in ("progress", "notice"):
        writer.writerow(_consignee_columns())
        writer.writerows(_consignee_rows(d))
    else:
        writer.writerow([*_lot_columns(), _("UDI")])
        for lot, row in zip(d.lots, _lot_rows(d), strict=True):
            writer.writerow([*row, " ".join(lot.serials)])
    return out.getvalue()


def json_document(d: RecallDossier, kind: str) -> dict[str, Any]:
    check_kind(kind)
    return {"kind": kind, "title": _(KINDS[kind]), **d.to_json()}


def write_pdf(d: RecallDossier, kind: str, target: Path | io.BytesIO, *, font: ChineseFont | None = None) -> None:
    """Write the PDF of ``kind``; ``font`` defaults to :func:`chinese_font`'s choice."""
    _pdf(d, check_kind(kind), font).write(target)


def write_all(d: RecallDossier, kind: str, out_dir: Path, *, font: ChineseFont | None = None) -> list[Path]:
    """Write ``{kind}.pdf``, ``{kind}.csv`` and ``{kind}.json`` into ``out_dir``; returns the paths."""
    check_kind(kind)
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf, table, data = (out_dir / f"nmpa-{kind}.{ext}" for ext in ("pdf", "csv", "json"))
    write_pdf(d, kind, pdf, font=font)
    # utf-8-sig: spreadsheet programs read Chinese headers right only with the byte-order mark.
    table.write_text(csv_text(d, kind), encoding="utf-8-sig")
    data.write_bytes(orjson.dumps(json_document(d, kind), option=orjson.OPT_INDENT_2))
    return [pdf, table, data]


def documents(kinds: Sequence[str]) -> list[str]:
    return [check_kind(k) for k in kinds]
