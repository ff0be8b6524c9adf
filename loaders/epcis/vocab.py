"""GS1 Core Business Vocabulary (CBV 2.0) values and the namespaces EPCIS documents use.

Standard values may be written three ways: a bare word in JSON-LD (``shipping``, expanded
by the EPCIS JSON-LD context), a CBV 1.x URN (``urn:epcglobal:cbv:bizstep:shipping``) or a
CBV 2.0 web URI (``https://ref.gs1.org/cbv/BizStep-shipping``, also ``cbv:BizStep-shipping``).
Internally every value is the web URI; :func:`short` gives the bare word back for display.
"""

from __future__ import annotations

from dataclasses import dataclass

CBV = "https://ref.gs1.org/cbv/"
GS1_VOC = "https://gs1.org/voc/"

#: Prefixes the standard EPCIS 2.0 JSON-LD context defines (epcis-context.jsonld).
STANDARD_PREFIXES: dict[str, str] = {
    "epcis": "https://ref.gs1.org/epcis/",
    "cbv": CBV,
    "cbvmda": "urn:epcglobal:cbv:mda:",
    "gs1": GS1_VOC,
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "dcterms": "http://purl.org/dc/terms/",
}

#: The only CURIE prefixes EPCIS 2.0 XML gives a meaning to in values.
XML_VALUE_PREFIXES: dict[str, str] = {"gs1": GS1_VOC, "cbv": CBV}

#: XML namespaces of the EPCIS schemas themselves (1.x and 2.0, capture and query).
EPCIS_XML_NAMESPACES = frozenset(
    {
        "",
        "urn:epcglobal:epcis:xsd:1",
        "urn:epcglobal:epcis:xsd:2",
        "urn:epcglobal:epcis-query:xsd:1",
        "urn:epcglobal:epcis-query:xsd:2",
        "urn:epcglobal:epcis-masterdata:xsd:1",
        "urn:epcglobal:epcis-masterdata:xsd:2",
        "https://ref.gs1.org/epcis/",
    }
)

#: The CBV master-data namespace ILMD fields such as ``lotNumber`` live in, as written.
CBV_MDA_NAMESPACES = frozenset(
    {"urn:epcglobal:cbv:mda", "urn:epcglobal:cbv:mda:", "urn:epcglobal:cbv:mda#", "https://ref.gs1.org/cbv/mda/"}
)

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
ACTIONS = frozenset({"ADD", "OBSERVE", "DELETE"})


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class Vocabulary:
    """One CBV vocabulary: its web-URI prefix, its 1.x URN prefix and its values."""

    name: str
    web_prefix: str
    urn_prefix: str
    values: frozenset[str]

    def expand(self, value: str) -> str:
        """The web URI of a bare word or a 1.x URN of this vocabulary; anything else unchanged."""
        if value in self.values:
            return self.web_prefix + value
        if value.startswith(self.urn_prefix):
            return self.web_prefix + value[len(self.urn_prefix) :]
        return value

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not acceptable here, or None. Custom URIs are acceptable."""
        value = self.expand(value)
        if value.startswith(self.web_prefix):
            word = value[len(self.web_prefix) :]
            if word not in self.values:
                return f"{word!r} is not a CBV {self.name} (expected one of {', '.join(sorted(self.values))})"
            return None
        if ":" not in value:
            return f"{value!r} is neither a CBV {self.name} nor a URI"
        return None


BIZ_STEP = Vocabulary(
    "business step",
    CBV + "BizStep-",
    "urn:epcglobal:cbv:bizstep:",
    _words(
        """
        accepting arriving assembling collecting commissioning consigning creating_class_instance
        cycle_counting decommissioning departing destroying disassembling dispensing encoding
        entering_exiting holding inspecting installing killing loading other packing picking
        receiving removing repackaging repairing replacing reserving retail_selling sampling
        sensor_reporting shipping staging_outbound stock_taking stocking storing transporting
        unloading unpacking void_shipping
        """
    ),
)
DISPOSITION = Vocabulary(
    "disposition",
    CBV + "Disp-",
    "urn:epcglobal:cbv:disp:",
    _words(
        """
        active available completeness_inferred completeness_verified conformant container_closed
        container_open damaged destroyed dispensed disposed encoded expired in_progress in_transit
        inactive mismatch_class mismatch_instance mismatch_quantity needs_replacement
        no_pedigree_match non_conformant non_sellable_other partially_dispensed recalled reserved
        retail_sold returned sellable_accessible sellable_not_accessible stolen unavailable unknown
        """
    ),
)
BIZ_TRANSACTION_TYPE = Vocabulary(
    "business transaction type",
    CBV + "BTT-",
    "urn:epcglobal:cbv:btt:",
    _words("bol cert desadv inv pedigree po poc prodorder recadv rma testprd testres upevt"),
)
SOURCE_DESTINATION_TYPE = Vocabulary(
    "source/destination type",
    CBV + "SDT-",
    "urn:epcglobal:cbv:sdt:",
    frozenset({"owning_party", "possessing_party", "location"}),
)
ERROR_REASON = Vocabulary(
    "error reason", CBV + "ER-", "urn:epcglobal:cbv:er:", frozenset({"did_not_occur", "incorrect_data"})
)
MEASUREMENT_TYPE = Vocabulary(
    "measurement type",
    GS1_VOC,
    GS1_VOC,  # no URN form
    _words(
        """
        AbsoluteHumidity AbsorbedDose AbsorbedDoseRate Acceleration Radioactivity Altitude
        AmountOfSubstance AmountOfSubstancePerUnitVolume Angle AngularAcceleration AngularMomentum
        AngularVelocity Area Capacitance Conductance Conductivity Count Density Dimensionless
        DoseEquivalent DoseEquivalentRate DynamicViscosity ElectricCharge ElectricCurrent
        ElectricCurrentDensity ElectricFieldStrength Energy Exposure Force Frequency Illuminance
        Inductance Irradiance KinematicViscosity Length LinearMomentum Luminance LuminousFlux
        LuminousIntensity MagneticFlux MagneticFluxDensity MagneticVectorPotential Mass
        MassConcentration MassFlowRate MassPerAreaTime MemoryCapacity MolalityOfSolute MolarEnergy
        MolarMass MolarVolume Power Pressure RadiantFlux RadiantIntensity RelativeHumidity
        Resistance Resistivity SolidAngle SpecificVolume Speed SurfaceDensity SurfaceTension
        Temperature Time Torque Voltage Volume VolumeFlowRate VolumeFraction VolumetricFlux
        Wavenumber
        """
    ),
)
SENSOR_EXCEPTION = Vocabulary("sensor exception", GS1_VOC, GS1_VOC, frozenset({"ALARM_CONDITION", "ERROR_CONDITION"}))
SENSOR_COMPONENT = Vocabulary(
    "sensor component",
    CBV + "Comp-",
    CBV + "Comp-",
    _words(
        """
        x y z axial_distance azimuth height spherical_radius polar_angle elevation_angle easting
        northing latitude longitude altitude
        """
    ),
)

#: Which vocabulary a field's value is drawn from, by (parent element, field name).
#: ``None`` as parent: any parent.
FIELD_VOCABULARIES: dict[tuple[str | None, str], Vocabulary] = {
    (None, "bizStep"): BIZ_STEP,
    (None, "disposition"): DISPOSITION,
    ("persistentDisposition", "set"): DISPOSITION,
    ("persistentDisposition", "unset"): DISPOSITION,
    ("bizTransaction", "type"): BIZ_TRANSACTION_TYPE,
    ("source", "type"): SOURCE_DESTINATION_TYPE,
    ("destination", "type"): SOURCE_DESTINATION_TYPE,
    ("errorDeclaration", "reason"): ERROR_REASON,
    ("sensorReport", "type"): MEASUREMENT_TYPE,
    ("sensorReport", "exception"): SENSOR_EXCEPTION,
    ("sensorReport", "component"): SENSOR_COMPONENT,
}


def vocabulary_of(parent: str, name: str) -> Vocabulary | None:
    return FIELD_VOCABULARIES.get((parent, name)) or FIELD_VOCABULARIES.get((None, name))


def short(value: str | None, vocabulary: Vocabulary) -> str | None:
    """The bare CBV word of a standard value (``shipping``); a custom URI unchanged."""
    if value is None:
        return None
    expanded = vocabulary.expand(value)
    if expanded.startswith(vocabulary.web_prefix):
        word = expanded[len(vocabulary.web_prefix) :]
        if word in vocabulary.values:
            return word
    return value


def expand_curie(value: str, prefixes: dict[str, str]) -> str:
    """``gs1:Temperature`` -> ``https://gs1.org/voc/Temperature`` when the prefix is known."""
    prefix, sep, rest = value.partition(":")
    if sep and not rest.startswith("//") and prefix in prefixes:
        return prefixes[prefix] + rest
    return value
