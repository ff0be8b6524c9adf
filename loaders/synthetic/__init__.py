"""A seeded synthetic medical-device plant, written in the documented CSV format.

>>> from loaders.synthetic import SCALES
>>> sorted(SCALES)
['large', 'medium', 'small']
"""

from loaders.synthetic.manifest import (
    MARKETS,
    SCALES,
    Defect,
    DefectTruth,
    NmpaKeys,
    NotableKeys,
    PlantManifest,
    ScaleProfile,
)
from loaders.synthetic.plant import generate_plant

__all__ = [
    "MARKETS",
    "SCALES",
    "Defect",
    "DefectTruth",
    "NmpaKeys",
    "NotableKeys",
    "PlantManifest",
    "ScaleProfile",
    "generate_plant",
]
