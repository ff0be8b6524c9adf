"""A seeded synthetic medical-device plant, written in the documented CSV format.

>>> from loaders.synthetic import SCALES
>>> sorted(SCALES)
['large', 'medium', 'small']
"""

from loaders.synthetic.manifest import SCALES, Defect, DefectTruth, NotableKeys, PlantManifest, ScaleProfile
from loaders.synthetic.plant import generate_plant

__all__ = ["SCALES", "Defect", "DefectTruth", "NotableKeys", "PlantManifest", "ScaleProfile", "generate_plant"]
