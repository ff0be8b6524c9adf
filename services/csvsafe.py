"""CSV that is safe to open in a spreadsheet: every CSV TraceGraph writes goes through :func:`writer`.

A spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` as a formula, and some
also after a leading tab or carriage return ("CSV injection", OWASP). A lot number, a consignee
name or a complaint text comes from outside and could be ``=HYPERLINK(...)``. Following the OWASP
guidance, such a cell is written with a leading single quote, so the spreadsheet shows it as text;
numbers (``-3.5``) are left alone. The quote is visible to a program reading the CSV back:
:func:`unneutralise` removes it.

``defusedcsv`` does the same for ``= + - @ | %`` but not for a leading tab or carriage return,
and rewrites ``|`` inside values, which would alter identifiers; hence this module.

>>> import io
>>> buffer = io.StringIO()
>>> w = writer(buffer, lineterminator="\\n")
>>> w.writerow(["=1+1", "-2.5", "lot-7", 3, None])
>>> buffer.getvalue()
"'=1+1,-2.5,lot-7,3,\\n"
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO, Any

#: Characters that make a spreadsheet read a cell as a formula (OWASP CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def neutralise(value: Any) -> Any:
    """``value`` as a spreadsheet must show it: text starting with a formula trigger gets a
    leading ``'``; numbers, ``None`` and other text are returned unchanged.

    >>> neutralise("@SUM(A1)"), neutralise("\\tx"), neutralise("-12"), neutralise(-12), neutralise("a=b")
    ("'@SUM(A1)", "'\\tx", '-12', -12, 'a=b')
    """
    if value is None or isinstance(value, int | float):
        return value
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def unneutralise(text: str) -> str:
    """The original text of a cell :func:`neutralise` wrote.

    >>> unneutralise(neutralise("=1+1")), unneutralise("'quoted")
    ('=1+1', "'quoted")
    """
    if text[:1] == "'" and text[1:].startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(text[1:]):
        return text[1:]
    return text


class SafeWriter:
    """A :func:`csv.writer` whose every cell goes through :func:`neutralise`.

    A row with a carriage return or line feed inside a cell is written with every cell quoted:
    :mod:`csv` quotes only the characters of its ``lineterminator``, so with ``"\\n"`` a bare
    carriage return would end the row early in a spreadsheet."""

    def __init__(self, target: IO[str], **options: Any) -> None:
        self._writer = csv.writer(target, **options)
        self._quoted = csv.writer(target, **{**options, "quoting": csv.QUOTE_ALL})

    def writerow(self, row: Iterable[Any]) -> None:
        cells = [neutralise(v) for v in row]
        breaks = any(isinstance(c, str) and ("\r" in c or "\n" in c) for c in cells)
        (self._quoted if breaks else self._writer).writerow(cells)

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(target: IO[str], **options: Any) -> SafeWriter:
    """A spreadsheet-safe CSV writer over ``target`` (``options`` as for :func:`csv.writer`)."""
    return SafeWriter(target, **options)
