// A layered layout for traces: one column per level (hops from the start), material flowing
// left to right whichever way the trace went (a backward genealogy puts its start on the
// right). Within a column nodes are grouped by kind, and ordered by the barycentre of their
// neighbours in the next columns (a few sweeps each way), which untangles most crossings for
// the price of a sort. Tall columns wrap into sub-columns so a page of 200 devices stays a block.
import { kindOrder } from "../kinds.js";

export const NODE_W = 190;
export const NODE_H = 40;
const GAP_X = 80;
const GAP_Y = 10;
const SUB_GAP_X = 16;
const MAX_ROWS = 40;
const SWEEPS = 4;
export const HEADER_H = 34;

export function layout(nodes, edges, { reverse = false } = {}) {
  const maxDegree = Math.max(0, ...nodes.map((n) => n.degree));
  const columnOf = (n) => (reverse ? maxDegree - n.degree : n.degree);
  const columns = Array.from({ length: maxDegree + 1 }, () => []);
  for (const n of nodes) columns[columnOf(n)].push(n);

  const rank = new Map(); // id → position within its column, 0..1
  const column = new Map(nodes.map((n) => [n.id, columnOf(n)]));
  for (const col of columns) {
    col.sort(
      (a, b) => kindOrder(a.kind) - kindOrder(b.kind) || Number(a.aggregate) - Number(b.aggregate) || cmp(a.id, b.id),
    );
    setRanks(col, rank);
  }
  const neighbours = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) {
    neighbours.get(e.source)?.push(e.target);
    neighbours.get(e.target)?.push(e.source);
  }
  const order = (col, side) => {
    const bary = new Map();
    for (const n of col) {
      const here = column.get(n.id);
      const near = neighbours.get(n.id).filter((m) => (side < 0 ? column.get(m) < here : column.get(m) > here));
      bary.set(n.id, near.length ? near.reduce((sum, m) => sum + rank.get(m), 0) / near.length : rank.get(n.id));
    }
    col.sort((a, b) => kindOrder(a.kind) - kindOrder(b.kind) || bary.get(a.id) - bary.get(b.id) || cmp(a.id, b.id));
    setRanks(col, rank);
  };
  for (let sweep = 0; sweep < SWEEPS; sweep++) {
    for (let c = 1; c < columns.length; c++) order(columns[c], -1);
    for (let c = columns.length - 2; c >= 0; c--) order(columns[c], +1);
  }

  // Coordinates: columns side by side, each (sub-)column centred on the tallest.
  const shape = columns.map((col) => {
    const subs = Math.max(1, Math.ceil(col.length / MAX_ROWS));
    return { subs, rows: Math.ceil(col.length / subs) };
  });
  const tallest = Math.max(1, ...shape.map((s) => s.rows));
  const positions = new Map();
  const headers = [];
  let x = 0;
  columns.forEach((col, c) => {
    const { subs, rows } = shape[c];
    const width = subs * NODE_W + (subs - 1) * SUB_GAP_X;
    if (col.length) {
      const degree = reverse ? maxDegree - c : c;
      headers.push({ degree, x, width });
    }
    col.forEach((n, i) => {
      const sub = Math.floor(i / rows);
      const inSub = Math.min(rows, col.length - sub * rows);
      const row = i - sub * rows;
      const top = HEADER_H + ((tallest - inSub) * (NODE_H + GAP_Y)) / 2;
      positions.set(n.id, { x: x + sub * (NODE_W + SUB_GAP_X), y: top + row * (NODE_H + GAP_Y) });
    });
    if (col.length) x += width + GAP_X;
  });
  return {
    positions,
    headers,
    width: Math.max(NODE_W, x - GAP_X),
    height: HEADER_H + tallest * (NODE_H + GAP_Y),
  };
}

function setRanks(col, rank) {
  col.forEach((n, i) => rank.set(n.id, (i + 0.5) / col.length));
}

function cmp(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
