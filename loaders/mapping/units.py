"""Units of measure a mapping may convert between: mass, volume and counts.

Exports name units in many ways: symbols (``kg``, ``mL``), words (``pcs``, ``each``), the
German ``St`` (Stück) and the UN/CEFACT Recommendation 20 codes that SAP and EDI messages
carry (``KGM``, ``MLT``, ``H87``). Every name is matched case-insensitively; ``mg`` and
``Mg`` cannot both be meant, because megagrams are not in the table.

>>> convert(1500, "g", "kg")
1.5
>>> convert(2, "L", "mL")
2000.0
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """A unit: its dimension and how many of the dimension's base unit one of it is."""

    dimension: str
    factor: float


_KG, _L, _PCS = "mass", "volume", "count"

#: name (lower case) -> unit. Base units: kg, L, pcs.
_UNITS: dict[str, Unit] = {
    # mass
    "kg": Unit(_KG, 1.0),
    "kgm": Unit(_KG, 1.0),
    "kilogram": Unit(_KG, 1.0),
    "g": Unit(_KG, 1e-3),
    "grm": Unit(_KG, 1e-3),
    "gram": Unit(_KG, 1e-3),
    "mg": Unit(_KG, 1e-6),
    "mgm": Unit(_KG, 1e-6),
    "milligram": Unit(_KG, 1e-6),
    "t": Unit(_KG, 1e3),
    "tne": Unit(_KG, 1e3),
    # volume
    "l": Unit(_L, 1.0),
    "ltr": Unit(_L, 1.0),
    "litre": Unit(_L, 1.0),
    "liter": Unit(_L, 1.0),
    "ml": Unit(_L, 1e-3),
    "mlt": Unit(_L, 1e-3),
    "millilitre": Unit(_L, 1e-3),
    "milliliter": Unit(_L, 1e-3),
    "ul": Unit(_L, 1e-6),
    "µl": Unit(_L, 1e-6),
    "μl": Unit(_L, 1e-6),  # GREEK SMALL LETTER MU, which keyboards produce as often as MICRO SIGN
    # counts
    "pcs": Unit(_PCS, 1.0),
    "pc": Unit(_PCS, 1.0),
    "piece": Unit(_PCS, 1.0),
    "pieces": Unit(_PCS, 1.0),
    "ea": Unit(_PCS, 1.0),
    "each": Unit(_PCS, 1.0),
    "st": Unit(_PCS, 1.0),
    "stk": Unit(_PCS, 1.0),
    "h87": Unit(_PCS, 1.0),
    "c62": Unit(_PCS, 1.0),
}


class UnitError(ValueError):
    """A unit that is unknown, or a conversion between different dimensions."""


def known_units() -> str:
    """The unit names, for error messages."""
    return ", ".join(sorted(_UNITS))


def unit(name: str) -> Unit:
    found = _UNITS.get(name.strip().lower())
    if found is None:
        raise UnitError(f"unknown unit {name!r} (known: {known_units()})")
    return found


def compatible(a: str, b: str) -> bool:
    """Whether quantities in ``a`` and ``b`` can be converted into each other."""
    return unit(a).dimension == unit(b).dimension


def convert(value: float, source: str, target: str) -> float:
    """``value`` in ``source`` units, expressed in ``target`` units.

    Rounded to 12 significant digits, so 1500 g is 1.5 kg rather than 1.5000000000000002.
    """
    a, b = unit(source), unit(target)
    if a.dimension != b.dimension:
        raise UnitError(f"cannot convert {source} ({a.dimension}) to {target} ({b.dimension})")
    return float(f"{value * a.factor / b.factor:.12g}")


def to_base(value: float, name: str) -> tuple[float, str]:
    """``value`` in the base unit of its dimension, and that dimension: how quantities in
    different units are summed and compared."""
    found = unit(name)
    return value * found.factor, found.dimension
