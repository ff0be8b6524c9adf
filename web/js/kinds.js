import { h } from "./dom.js";
import { t } from "./i18n.js";

// How each kind of node looks and reads. Colours are distinct hues for the stripe and a pale
// tint of each for the fill; text stays near-black on every tint, so contrast never depends on
// the hue. The order is the material flow, which keeps each graph column grouped the same way.

export const KINDS = {
  Supplier: { color: "#7b4fa0", plural: "Suppliers" },
  Part: { color: "#6b7280", plural: "Parts" },
  MaterialLot: { color: "#a05a00", plural: "Material lots" },
  Equipment: { color: "#0f766e", plural: "Equipment" },
  Inspection: { color: "#b45309", plural: "Inspections" },
  ProcessRun: { color: "#4d7c0f", plural: "Process runs" },
  ChangeRecord: { color: "#57534e", plural: "Change records" },
  WorkOrder: { color: "#1d4ed8", plural: "Work orders" },
  ProductLot: { color: "#9d174d", plural: "Product lots" },
  Device: { color: "#0369a1", plural: "Devices" },
  Container: { color: "#7c2d12", plural: "Containers" },
  Shipment: { color: "#15803d", plural: "Shipments" },
  Consignee: { color: "#b91c1c", plural: "Consignees" },
  Complaint: { color: "#be123c", plural: "Complaints" },
  NonConformance: { color: "#c2410c", plural: "Nonconformances" },
  CAPA: { color: "#4338ca", plural: "CAPAs" },
  Event: { color: "#475569", plural: "Events" },
  Alert: { color: "#dc2626", plural: "Alerts" },
  Task: { color: "#0e7490", plural: "Tasks" },
};

const ORDER = Object.keys(KINDS);

export function kindOrder(kind) {
  const i = ORDER.indexOf(kind);
  return i < 0 ? ORDER.length : i;
}

export function kindColor(kind) {
  return (KINDS[kind] || { color: "#475569" }).color;
}

/** "Material lot", "Material lots": the kind's name for `n` of them (message kind.plural.<Kind>). */
export function plural(kind, n) {
  const key = `kind.plural.${kind}`;
  const name = t(key, { count: n });
  if (name !== key) return name;
  return n === 1 ? kind.replace(/([a-z])([A-Z])/g, "$1 $2") : `${kind}s`; // a kind newer than the catalogue
}

/** The kind's short name on badges and chips (message kind.<Kind>; English keeps the schema's). */
export function kindName(kind) {
  const key = `kind.${kind}`;
  const name = t(key);
  return name === key ? kind : name;
}

/** Kinds that are reached but never passed through: where a recall list ends. */
export const PARTY_KINDS = new Set(["Supplier", "Consignee"]);

/**
 * A short, recognisable label for a key: the serial of a unit, the lot of a lot, the SSCC of
 * a case, the natural key of everything else; a name when the store has one.
 */
export function shortLabel(key, props) {
  if (props && props.name) return String(props.name);
  let m = key.match(/^(?:01\/\d{14}|hibc\/[^/]+|ma\/[^/]+)\/(21|10)\/(.+)$/);
  if (m) return decodeSafe(m[2]);
  m = key.match(/^00\/(\d{18})$/);
  if (m) return m[1]; // the SSCC as printed on the label
  m = key.match(/^41[47]\/(\d{13})/);
  if (m) return `GLN ${m[1]}`;
  m = key.match(/^[a-z_]+:(.+)$/);
  if (m) return m[1];
  return key;
}

function decodeSafe(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A small label naming a kind, with its colour. */
export function badge(kind) {
  return h("span", { class: "badge", style: kindStyle(kind), "data-kind": kind }, kindName(kind));
}

/** Attributes for an element coloured by kind: the CSS reads --kind. */
export function kindStyle(kind) {
  return { "--kind": kindColor(kind) };
}

/** The kind's colour mixed with white: a fill pale enough for near-black text on top. */
export function kindTint(kind, amount = 0.86) {
  const hex = kindColor(kind).slice(1);
  const mix = (i) => {
    const c = parseInt(hex.slice(i, i + 2), 16);
    return Math.round(c + (255 - c) * amount)
      .toString(16)
      .padStart(2, "0");
  };
  return `#${mix(0)}${mix(2)}${mix(4)}`;
}
