"""Building blocks for regulator-facing PDFs (ReportLab), shared by the trace and recall reports.

A report is a :class:`PdfReport` filled in order — :meth:`~PdfReport.title_block`,
:meth:`~PdfReport.heading`, :meth:`~PdfReport.key_values`, :meth:`~PdfReport.data_table`,
:meth:`~PdfReport.tree`, :meth:`~PdfReport.notes`, :meth:`~PdfReport.sources` — then written
with :meth:`~PdfReport.write`. Source records are numbered by one :class:`Citations` per
report; every table row and tree line can carry the numbers of the records that prove it, and
:meth:`~PdfReport.sources` prints them in full (system, file, line, record id, SHA-256).

Text is never markup: everything given is escaped. Fonts default to the PDF standard
Helvetica/Courier (Latin-1); :func:`register_font` (a TrueType file) or :func:`register_cid_font`
(ReportLab's built-in Adobe CJK fonts, e.g. ``STSong-Light`` for Simplified Chinese) give
fonts for other scripts, passed to :class:`PdfReport` as its :class:`Fonts`.

>>> import io
>>> cites = Citations()
>>> n = cites.cite(Provenance(source_system="erp", source="receipts.csv", line=12))
>>> pdf = PdfReport("Example", footer="example")
>>> pdf.title_block("Example report", [("Query", "trace backward lot:R-1")])
>>> pdf.data_table(["Key", "Kind"], [["lot:R-1", "MaterialLot"]], cites=[[n]])
>>> pdf.sources(cites)
>>> out = io.BytesIO(); pdf.write(out); out.getvalue()[:5]
b'%PDF-'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from schema.model import Provenance

#: Rows per ReportLab table: long tables are laid out in slices, which keeps layout fast.
TABLE_SLICE = 150


@dataclass(frozen=True)
class Fonts:
    """Font names (registered with ReportLab) a report uses for text, headings and hashes."""

    regular: str = "Helvetica"
    bold: str = "Helvetica-Bold"
    mono: str = "Courier"


DEFAULT_FONTS = Fonts()


def register_font(name: str, regular: Path, *, bold: Path | None = None) -> Fonts:
    """Register a TrueType font (``.ttf``, or ``.ttc`` with its first face) under ``name``; returns
    the :class:`Fonts` that use it for everything (its bold face for headings when given).

    Chinese, Japanese and Korean text needs a font that has those glyphs: a CJK TrueType font
    here, or :func:`register_cid_font` without any file."""
    pdfmetrics.registerFont(TTFont(name, str(regular)))
    bold_name = name
    if bold is not None:
        bold_name = f"{name}-Bold"
        pdfmetrics.registerFont(TTFont(bold_name, str(bold)))
    return Fonts(regular=name, bold=bold_name, mono=name)


def register_cid_font(name: str = "STSong-Light") -> Fonts:
    """Register one of ReportLab's built-in Adobe CJK fonts (``STSong-Light`` Simplified Chinese,
    ``MSung-Light`` Traditional, ``HeiseiMin-W3`` Japanese, ``HYSMyeongJo-Medium`` Korean): no font
    file is embedded; readers supply the glyphs."""
    pdfmetrics.registerFont(UnicodeCIDFont(name))
    return Fonts(regular=name, bold=name, mono=name)


def cite_text(p: Provenance) -> str:
    """One line naming a source record: ``system:file:line #record-id sha256:…``."""
    text = f"{p.source_system}:{p.source}" + (f":{p.line}" if p.line is not None else "")
    if p.record_id:
        text += f" #{p.record_id}"
    if p.record_hash:
        text += f" sha256:{p.record_hash}"
    return text


def cite_marks(numbers: Iterable[int]) -> str:
    """``[1] [4]``: how a line refers to its source records."""
    return " ".join(f"[{n}]" for n in sorted(set(numbers)))


class Citations:
    """The source records a report cites, numbered from 1 in order of first citation; citing the
    same record again gives the same number."""

    def __init__(self) -> None:
        self._numbers: dict[Provenance, int] = {}

    def cite(self, provenance: Provenance) -> int:
        number = self._numbers.get(provenance)
        if number is None:
            number = self._numbers[provenance] = len(self._numbers) + 1
        return number

    def cite_all(self, provenances: Iterable[Provenance]) -> list[int]:
        return sorted({self.cite(p) for p in provenances})

    def __iter__(self) -> Iterator[tuple[int, Provenance]]:
        return iter(sorted((n, p) for p, n in self._numbers.items()))

    def __len__(self) -> int:
        return len(self._numbers)


class TreeLine(NamedTuple):
    """One line of a tree: how deep it sits (0 = root), its text, and its source records."""

    depth: int
    text: str
    cites: Sequence[int] = ()


class _NumberedCanvas(Canvas):
    """Draws "page N of M" and the footer once the page count is known."""

    footer = ""
    font = DEFAULT_FONTS.regular
    #: The page number's wording, with ``{page}`` and ``{total}`` (a report in another language gives its own).
    page_label = "page {page} of {total}"
    page_width = float(landscape(A4)[0])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        # Keep the page for save(), which knows the page count; start the next one.
        self._pages.append(dict(self.__dict__))
        self._startPage()  # type: ignore[attr-defined]  # ReportLab's own reset, not in its stubs

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self._draw_footer(total)
            super().showPage()
        super().save()

    def _draw_footer(self, total: int) -> None:
        self.setFont(self.font, 7)
        self.setFillColor(colors.grey)
        self.drawString(15 * mm, 8 * mm, self.footer)
        label = self.page_label.format(page=self.getPageNumber(), total=total)
        self.drawRightString(self.page_width - 15 * mm, 8 * mm, label)


class PdfReport:
    """A report laid out on A4 landscape pages, filled in reading order, then written once."""

    def __init__(
        self,
        title: str,
        *,
        fonts: Fonts = DEFAULT_FONTS,
        footer: str = "",
        author: str = "",
        subject: str = "",
        page_label: str = _NumberedCanvas.page_label,
    ) -> None:
        self.title = title
        self.page_label = page_label
        self.fonts = fonts
        self.footer = footer
        self.author = author
        self.subject = subject
        self.story: list[Flowable] = []
        base = ParagraphStyle("tg-body", fontName=fonts.regular, fontSize=8.5, leading=11, alignment=TA_LEFT)
        self.styles = {
            "title": ParagraphStyle("tg-title", parent=base, fontName=fonts.bold, fontSize=17, leading=21),
            "h1": ParagraphStyle("tg-h1", parent=base, fontName=fonts.bold, fontSize=12, leading=15, spaceBefore=8),
            "h2": ParagraphStyle("tg-h2", parent=base, fontName=fonts.bold, fontSize=10, leading=13, spaceBefore=6),
            "body": base,
            "label": ParagraphStyle("tg-label", parent=base, fontName=fonts.bold),
            # Cells break anywhere: keys, record ids and hashes have no spaces to break at.
            "cell": ParagraphStyle("tg-cell", parent=base, fontSize=7.5, leading=9.5, wordWrap="CJK"),
            "head": ParagraphStyle("tg-head", parent=base, fontName=fonts.bold, fontSize=7.5, leading=9.5),
            "mono": ParagraphStyle("tg-mono", parent=base, fontName=fonts.mono, fontSize=7, leading=9, wordWrap="CJK"),
            "tree": ParagraphStyle("tg-tree", parent=base, fontSize=8, leading=10.5, wordWrap="CJK"),
        }

    @property
    def width(self) -> float:
        """The usable width of a page, in points."""
        return float(landscape(A4)[0] - 30 * mm)

    # -- text ------------------------------------------------------------------------
    def _p(self, text: str, style: str = "body") -> Paragraph:
        return Paragraph(escape(text).replace("\n", "<br/>"), self.styles[style])

    def title_block(self, title: str, fields: Sequence[tuple[str, str]], *, subtitle: str | None = None) -> None:
        """The report's title, an optional subtitle, and a two-column block of what it answers and
        how it was made (query, parameters, generated at and by, software version, store)."""
        self.story.append(self._p(title, "title"))
        if subtitle:
            self.story.append(self._p(subtitle))
        self.story.append(Spacer(1, 3 * mm))
        self.key_values(fields, boxed=True)
        self.story.append(Spacer(1, 4 * mm))

    def heading(self, text: str, *, level: int = 1) -> None:
        self.story.append(self._p(text, "h1" if level <= 1 else "h2"))
        self.story.append(Spacer(1, 1.5 * mm))

    def paragraph(self, text: str) -> None:
        self.story.append(self._p(text))
        self.story.append(Spacer(1, 1.5 * mm))

    def page_break(self) -> None:
        self.story.append(PageBreak())

    # -- tables ----------------------------------------------------------------------
    def key_values(
        self,
        rows: Sequence[tuple[str, str] | tuple[str, str, Sequence[int]]],
        *,
        boxed: bool = False,
    ) -> None:
        """Label–value rows; a third item, when given, lists the row's source records."""
        data = []
        for row in rows:
            label, value = row[0], row[1]
            marks = cite_marks(row[2]) if len(row) == 3 else ""
            data.append([self._p(label, "label"), self._p(value + (f"  {marks}" if marks else ""), "cell")])
        if not data:
            return
        table = Table(data, colWidths=[45 * mm, self.width - 45 * mm], hAlign="LEFT")
        commands: list[Any] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ]
        if boxed:
            commands += [
                ("BOX", (0, 0), (-1, -1), 0.6, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
            ]
        table.setStyle(TableStyle(commands))
        self.story.append(table)
        self.story.append(Spacer(1, 2 * mm))

    def data_table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        cites: Sequence[Sequence[int]] | None = None,
        widths: Sequence[float] | None = None,
        mono: Sequence[int] = (),
        empty: str = "none",
    ) -> None:
        """A table with a header row repeated on every page. With ``cites`` (one list per row) a
        last column "sources" gives each row's source records. ``widths`` are relative weights
        (the "sources" column takes a fixed share); ``mono`` are the indexes of columns of hashes."""
        if not rows:
            self.paragraph(empty)
            return
        header = list(columns) + (["sources"] if cites is not None else [])
        weights = list(widths) if widths is not None else [1.0] * len(columns)
        if len(weights) != len(columns):
            raise ValueError("one width per column")
        available = self.width - (22 * mm if cites is not None else 0)
        col_widths = [available * w / sum(weights) for w in weights] + ([22 * mm] if cites is not None else [])
        head = [self._p(h, "head") for h in header]
        body = []
        for i, row in enumerate(rows):
            cells = [self._p(str(v), "mono" if j in mono else "cell") for j, v in enumerate(row)]
            if cites is not None:
                cells.append(self._p(cite_marks(cites[i]), "cell"))
            body.append(cells)
        style = TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e9ef")),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.grey),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
        for start in range(0, len(body), TABLE_SLICE):
            table = Table([head, *body[start : start + TABLE_SLICE]], colWidths=col_widths, repeatRows=1)
            table.setStyle(style)
            self.story.append(table)
        self.story.append(Spacer(1, 3 * mm))

    def long_table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[str]],
        *,
        cites: Sequence[Sequence[int]] | None = None,
        widths: Sequence[float] | None = None,
        empty: str = "none",
    ) -> None:
        """A table of many short cells (keys, dates, counts), laid out as plain text: cells do not
        wrap, so it is many times faster than :meth:`data_table` for lists of thousands of rows.
        Text that does not fit its column is cut with "…"; the report's CSV holds it in full."""
        if not rows:
            self.paragraph(empty)
            return
        header = list(columns) + (["sources"] if cites is not None else [])
        weights = list(widths) if widths is not None else [1.0] * len(columns)
        if len(weights) != len(columns):
            raise ValueError("one width per column")
        available = self.width - (22 * mm if cites is not None else 0)
        col_widths = [available * w / sum(weights) for w in weights] + ([22 * mm] if cites is not None else [])
        size = 6.5
        fits = [max(1, int((w - 5) / pdfmetrics.stringWidth("0", self.fonts.regular, size))) for w in col_widths]

        def cut(text: str, limit: int) -> str:
            return text if len(text) <= limit else text[: max(1, limit - 1)] + "…"

        body = []
        for i, row in enumerate(rows):
            cells = [str(v) for v in row] + ([cite_marks(cites[i])] if cites is not None else [])
            body.append([cut(c, fits[j]) for j, c in enumerate(cells)])
        style = TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), self.fonts.regular),
                ("FONTNAME", (0, 0), (-1, 0), self.fonts.bold),
                ("FONTSIZE", (0, 0), (-1, -1), size),
                ("LEADING", (0, 0), (-1, -1), size + 1.5),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e9ef")),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.grey),
                ("TOPPADDING", (0, 0), (-1, -1), 0.8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.8),
                ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
            ]
        )
        head = [cut(h, fits[j]) for j, h in enumerate(header)]
        for start in range(0, len(body), TABLE_SLICE * 4):
            table = Table([head, *body[start : start + TABLE_SLICE * 4]], colWidths=col_widths, repeatRows=1)
            table.setStyle(style)
            self.story.append(table)
        self.story.append(Spacer(1, 3 * mm))

    def tree(self, lines: Sequence[TreeLine]) -> None:
        """An indented tree, one line per node, each with its source records."""
        for line in lines:
            marks = cite_marks(line.cites)
            style = ParagraphStyle(
                f"tg-tree-{line.depth}",
                parent=self.styles["tree"],
                leftIndent=min(line.depth, 20) * 5 * mm,
                bulletIndent=min(line.depth, 20) * 5 * mm - 3 * mm if line.depth else 0,
            )
            text = escape(line.text) + (f"  {escape(marks)}" if marks else "")
            self.story.append(Paragraph(text, style, bulletText="-" if line.depth else None))
        self.story.append(Spacer(1, 3 * mm))

    def notes(self, items: Sequence[str], *, title: str | None = None) -> None:
        """Numbered notes (limitations, explanations) at the end of a section."""
        if not items:
            return
        block: list[Flowable] = [self._p(title, "h2")] if title else []
        block += [self._p(f"{i}. {text}") for i, text in enumerate(items, 1)]
        self.story.append(KeepTogether(block))
        self.story.append(Spacer(1, 2 * mm))

    def sources(self, citations: Citations, *, title: str = "Source records") -> None:
        """The numbered source records in full: system, file or message, line or index, the
        source's record id (an EPCIS event ID), and the SHA-256 of the record as read."""
        self.heading(title)
        rows = [
            [
                f"[{n}]",
                p.source_system,
                p.source,
                "" if p.line is None else str(p.line),
                p.record_id or "",
                p.record_hash or "",
            ]
            for n, p in citations
        ]
        self.data_table(
            ["#", "system", "file or message", "line", "record id", "record SHA-256"],
            rows,
            widths=[0.35, 0.5, 1.9, 0.35, 1.9, 3.3],
            mono=(5,),
            empty="no source records are cited",
        )

    # -- output ----------------------------------------------------------------------
    def write(self, target: Path | IO[bytes]) -> None:
        """Lay the report out and write it (a path or a binary stream)."""
        out: str | IO[bytes] = str(target) if isinstance(target, Path) else target
        doc = SimpleDocTemplate(
            out,
            pagesize=landscape(A4),
            leftMargin=15 * mm,
            rightMargin=15 * mm,
            topMargin=12 * mm,
            bottomMargin=14 * mm,
            title=self.title,
            author=self.author,
            subject=self.subject,
            creator="TraceGraph",
        )
        footer, font = self.footer, self.fonts.regular

        class Numbered(_NumberedCanvas):
            pass

        Numbered.footer = footer
        Numbered.font = font
        Numbered.page_label = self.page_label
        doc.build(list(self.story), canvasmaker=Numbered)
