// From a trace to what the graph draws. Pure functions, no DOM: the browser tests compute the
// same numbers from the API's trace to check what is on screen.
//
// A trace lists every node it reached with its hop count ("level") and one explaining path.
// Nodes are grouped by (level, kind); a group larger than `aggregateOver` is drawn as one
// aggregate node ("432 Devices") until the user expands it, EXPAND_STEP members at a time, so
// a recall-size trace of thousands of nodes stays a picture of tens.

export const AGGREGATE_OVER = 20; // default: groups of more members than this start aggregated
export const EXPAND_STEP = 200; // members drawn per "expand"
export const EXPAND_ALL_MAX = 2000; // beyond this, "expand all" would draw more than a browser shows well

export function groupId(degree, kind) {
  return `${degree}|${kind}`;
}

export function aggregateId(gid) {
  return `agg:${gid}`;
}

/** The trace's nodes by (level, kind), members sorted by key; computed once per trace. */
export function groupsOf(trace) {
  const groups = new Map();
  for (const node of trace.nodes) {
    const id = groupId(node.degree, node.kind);
    if (!groups.has(id)) groups.set(id, { id, degree: node.degree, kind: node.kind, members: [] });
    groups.get(id).members.push(node.key);
  }
  for (const g of groups.values()) g.members.sort();
  return groups;
}

/** A fresh view state: nothing expanded or collapsed by hand. */
export function initialView(aggregateOver = AGGREGATE_OVER) {
  return { aggregateOver, shown: new Map(), collapsedKinds: new Set(), collapseFrom: null };
}

/** How many of a group's members are drawn one by one; the rest form its aggregate node. */
export function shownCount(group, view) {
  const n = group.members.length;
  if (view.shown.has(group.id)) return Math.min(view.shown.get(group.id), n);
  if (view.collapsedKinds.has(group.kind)) return 0;
  if (view.collapseFrom !== null && group.degree >= view.collapseFrom) return 0;
  return n > view.aggregateOver ? 0 : n;
}

/**
 * What to draw: `nodes` (single nodes and aggregates), `edges` between them (parallel trace
 * edges merged, with their count and types), and `of`: trace key → the id of the node it is drawn as.
 */
export function displayGraph(trace, groups, view, startKinds) {
  const nodes = [];
  const of = new Map();
  trace.starts.forEach((key) => {
    nodes.push({ id: key, key, kind: startKinds.get(key) || "Node", degree: 0, start: true, aggregate: false });
    of.set(key, key);
  });
  for (const g of groups.values()) {
    const shown = shownCount(g, view);
    g.members.slice(0, shown).forEach((key) => {
      if (of.has(key)) return; // a start reached again keeps its place at level 0
      nodes.push({ id: key, key, kind: g.kind, degree: g.degree, gid: g.id, aggregate: false });
      of.set(key, key);
    });
    if (shown < g.members.length) {
      const id = aggregateId(g.id);
      const members = g.members.slice(shown);
      nodes.push({
        id,
        kind: g.kind,
        degree: g.degree,
        gid: g.id,
        aggregate: true,
        count: members.length,
        members,
        shown,
      });
      for (const key of members) if (!of.has(key)) of.set(key, id);
    }
  }
  const merged = new Map();
  for (const e of trace.edges) {
    const source = of.get(e.source);
    const target = of.get(e.target);
    if (!source || !target || source === target) continue; // inside one aggregate, or not listed
    const id = edgeId(source, target);
    if (!merged.has(id)) merged.set(id, { id, source, target, count: 0, types: new Set() });
    const edge = merged.get(id);
    edge.count += 1;
    edge.types.add(e.type);
  }
  return { nodes, edges: [...merged.values()], of };
}

export function edgeId(source, target) {
  return `${source}\u2192${target}`;
}

/** Each trace node's explaining path, by key (starts explain themselves). */
export function pathIndex(trace) {
  const paths = new Map(trace.starts.map((key) => [key, [key]]));
  for (const node of trace.nodes) if (!paths.has(node.key)) paths.set(node.key, node.path);
  return paths;
}

/**
 * The drawn nodes and edges along `key`'s explaining path. A path runs from the start, so
 * backward its relationships point the other way (material flows towards the start): both
 * orientations are looked up.
 */
export function pathOnScreen(path, display) {
  const ids = [];
  for (const key of path) {
    const id = display.of.get(key);
    if (id && ids[ids.length - 1] !== id) ids.push(id);
  }
  const present = new Set(display.edges.map((e) => e.id));
  const edges = new Set();
  for (let i = 1; i < ids.length; i++) {
    const forward = edgeId(ids[i - 1], ids[i]);
    const backward = edgeId(ids[i], ids[i - 1]);
    if (present.has(forward)) edges.add(forward);
    else if (present.has(backward)) edges.add(backward);
  }
  return { nodes: new Set(ids), edges };
}
