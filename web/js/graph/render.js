// The graph on screen: an SVG drawn from a display graph and its layout, with pan (drag),
// zoom (wheel, + and -, 0 to fit), selection by click or keyboard (every node is focusable),
// and path highlighting. It keeps no trace state of its own: the graph view redraws it.
import { clear, s } from "../dom.js";
import { t as message } from "../i18n.js"; // `t` here is the view transform
import { kindColor, kindTint, plural, shortLabel } from "../kinds.js";
import { HEADER_H, NODE_H, NODE_W } from "./layout.js";

const MIN_SCALE = 0.05;
const MAX_SCALE = 2.5;
const LABEL_CHARS = 24;
const READABLE_SCALE = 0.45; // labels stay legible on a tablet

export function createCanvas(container, { onSelect, onExpand, onLevel }) {
  const svg = s("svg", {
    class: "graph",
    tabindex: "0",
    role: "group",
    "aria-label": message("graph.canvasLabel"),
  });
  const defs = s("defs", null, marker("arrow", "arrow"), marker("arrow-hl", "arrow arrow-hl"));
  const viewport = s("g", { class: "viewport" });
  svg.append(defs, viewport);
  container.append(svg);

  let t = { x: 20, y: 10, k: 1 };
  let bounds = { width: 1, height: 1 };
  let startAtRight = false; // backward traces put their start in the rightmost column
  const apply = () => viewport.setAttribute("transform", `translate(${t.x},${t.y}) scale(${t.k})`);

  function zoomAt(factor, cx, cy) {
    const k = Math.min(MAX_SCALE, Math.max(MIN_SCALE, t.k * factor));
    t = { x: cx - ((cx - t.x) * k) / t.k, y: cy - ((cy - t.y) * k) / t.k, k };
    apply();
  }

  /**
   * Show the whole graph. With `readable`, never smaller than READABLE_SCALE: a trace too wide
   * for the screen (a tablet) then shows its start end, left forward and right backward, at a
   * size one can read, and the user pans to the rest.
   */
  function fit({ readable = false } = {}) {
    const box = svg.getBoundingClientRect();
    if (!box.width || !box.height) return;
    const top = 48; // room for the zoom buttons drawn over the canvas
    let k = Math.min(
      1.2,
      Math.max(MIN_SCALE, Math.min((box.width - 40) / bounds.width, (box.height - top - 12) / bounds.height)),
    );
    if (readable) k = Math.max(k, READABLE_SCALE);
    const spareX = box.width - bounds.width * k;
    const spareY = box.height - top - bounds.height * k;
    t = {
      k,
      x: spareX >= 0 ? spareX / 2 : startAtRight ? spareX - 20 : 20,
      y: top + spareY / 2, // centred: the start sits at mid-height
    };
    apply();
  }

  // Pan by dragging the background with one pointer, zoom by pinching with two (tablets).
  // A press that starts on a node is a selection, not a drag.
  const pointers = new Map(); // pointerId → its latest position
  let drag = null;
  let pinch = null;
  let dragged = false; // a pan ends in a click event that must not clear the selection
  const spread = () => {
    const [a, b] = [...pointers.values()];
    return { distance: Math.hypot(a.x - b.x, a.y - b.y) || 1, x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
  };
  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || (!pointers.size && event.target.closest(".node, .level"))) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    svg.setPointerCapture(event.pointerId);
    if (pointers.size === 1) {
      drag = { x: event.clientX - t.x, y: event.clientY - t.y, startX: event.clientX, startY: event.clientY };
      dragged = false;
      svg.classList.add("dragging");
    } else if (pointers.size === 2) {
      drag = null;
      pinch = { distance: spread().distance, k: t.k };
      dragged = true;
    }
  });
  svg.addEventListener("pointermove", (event) => {
    if (!pointers.has(event.pointerId)) return;
    pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (pinch && pointers.size === 2) {
      const now = spread();
      const box = svg.getBoundingClientRect();
      zoomAt((pinch.k * now.distance) / pinch.distance / t.k, now.x - box.left, now.y - box.top);
    } else if (drag) {
      if (Math.abs(event.clientX - drag.startX) + Math.abs(event.clientY - drag.startY) > 4) dragged = true;
      t = { ...t, x: event.clientX - drag.x, y: event.clientY - drag.y };
      apply();
    }
  });
  const release = (event) => {
    pointers.delete(event.pointerId);
    if (pointers.size < 2) pinch = null;
    if (!pointers.size) {
      drag = null;
      svg.classList.remove("dragging");
    }
  };
  svg.addEventListener("pointerup", release);
  svg.addEventListener("pointercancel", release);
  svg.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault(); // the wheel zooms the graph, not the page under it
      const box = svg.getBoundingClientRect();
      zoomAt(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
    },
    { passive: false },
  );

  svg.addEventListener("click", (event) => {
    const node = event.target.closest(".node");
    if (node) return onSelect(node.dataset.id);
    const level = event.target.closest(".level");
    if (level) return onLevel(Number(level.dataset.degree));
    if (!dragged) onSelect(null);
  });
  svg.addEventListener("dblclick", (event) => {
    const node = event.target.closest(".node.aggregate");
    if (node) onExpand(node.dataset.id);
  });
  svg.addEventListener("keydown", (event) => {
    const node = event.target.closest?.(".node");
    const level = event.target.closest?.(".level");
    const box = svg.getBoundingClientRect();
    if ((event.key === "Enter" || event.key === " ") && (node || level)) {
      event.preventDefault();
      if (node && event.key === "Enter" && event.shiftKey && node.classList.contains("aggregate"))
        onExpand(node.dataset.id);
      else if (node) onSelect(node.dataset.id);
      else onLevel(Number(level.dataset.degree));
    } else if (event.key === "+" || event.key === "=") zoomAt(1.25, box.width / 2, box.height / 2);
    else if (event.key === "-") zoomAt(0.8, box.width / 2, box.height / 2);
    else if (event.key === "0") fit();
    else if (event.key === "Escape") onSelect(null);
    else if (event.target === svg && event.key.startsWith("Arrow")) {
      event.preventDefault();
      const step = 60;
      if (event.key === "ArrowLeft") t.x += step;
      if (event.key === "ArrowRight") t.x -= step;
      if (event.key === "ArrowUp") t.y += step;
      if (event.key === "ArrowDown") t.y -= step;
      apply();
    }
  });

  function draw(display, placed, { labels, collapsedLevels, reverse }) {
    clear(viewport);
    bounds = { width: placed.width, height: placed.height };
    startAtRight = reverse;
    const levels = s("g", { class: "levels" });
    for (const header of placed.headers) {
      const collapsed = collapsedLevels.has(header.degree);
      levels.append(
        s(
          "g",
          {
            class: "level",
            tabindex: "0",
            role: "button",
            "data-degree": header.degree,
            "aria-label": message(collapsed ? "graph.level.expand" : "graph.level.collapse", { level: header.degree }),
            transform: `translate(${header.x},0)`,
          },
          s("rect", { width: header.width, height: HEADER_H - 10, rx: 4 }),
          s(
            "text",
            { x: header.width / 2, y: 17, "text-anchor": "middle" },
            header.degree === 0 ? message("graph.level.start") : `${message("graph.level.n", { level: header.degree })} ${collapsed ? "▸" : "▾"}`,
          ),
          s(
            "title",
            null,
            header.degree === 0
              ? message("graph.level.startTitle")
              : message(reverse ? "graph.level.upstream" : "graph.level.downstream", { count: header.degree }),
          ),
        ),
      );
    }
    const edges = s("g", { class: "edges" });
    for (const e of display.edges) {
      const a = placed.positions.get(e.source);
      const b = placed.positions.get(e.target);
      const sx = a.x + NODE_W;
      const sy = a.y + NODE_H / 2;
      const ty = b.y + NODE_H / 2;
      let d;
      if (Math.abs(a.x - b.x) < NODE_W) {
        // Within one column (a lot and its devices, both one hop from a work order): an arc
        // on the column's right side, instead of a line through the nodes.
        const out = 36 + Math.min(60, Math.abs(ty - sy) / 6);
        d = `M${sx},${sy} C${sx + out},${sy} ${b.x + NODE_W + out},${ty} ${b.x + NODE_W},${ty}`;
      } else {
        const tx = b.x;
        const bend = Math.max(40, Math.abs(tx - sx) / 2);
        d = `M${sx},${sy} C${sx + bend},${sy} ${tx - bend},${ty} ${tx},${ty}`;
      }
      edges.append(
        s(
          "path",
          {
            class: "edge",
            "data-id": e.id,
            d,
            "stroke-width": Math.min(4, 1.2 + Math.log2(e.count) / 2), // merged edges a little heavier
          },
          s("title", null, `${[...e.types].join(", ")}${e.count > 1 ? ` ×${e.count}` : ""}`),
        ),
      );
    }
    const nodes = s("g", { class: "nodes" });
    for (const n of display.nodes) nodes.append(nodeShape(n, placed.positions.get(n.id), labels));
    viewport.append(levels, edges, nodes);
    svg.dataset.nodes = String(display.nodes.length);
    svg.dataset.edges = String(display.edges.length);
  }

  function highlight(path, selectedId) {
    svg.classList.toggle("has-path", Boolean(path && path.nodes.size));
    for (const el of viewport.querySelectorAll(".node")) {
      el.classList.toggle("on-path", Boolean(path && path.nodes.has(el.dataset.id)));
      el.classList.toggle("selected", el.dataset.id === selectedId);
      el.setAttribute("aria-pressed", String(el.dataset.id === selectedId));
    }
    for (const el of viewport.querySelectorAll(".edge")) {
      el.classList.toggle("on-path", Boolean(path && path.edges.has(el.dataset.id)));
    }
    // Drawn last, so a highlighted path lies on top of the others.
    const edgeLayer = viewport.querySelector(".edges");
    for (const el of edgeLayer.querySelectorAll(".edge.on-path")) edgeLayer.append(el);
  }

  /** Pan so that a node is in view (after a search in the graph selects one off-screen). */
  function reveal(id) {
    const el = viewport.querySelector(`.node[data-id="${CSS.escape(id)}"]`);
    if (!el) return;
    const box = svg.getBoundingClientRect();
    const own = el.getBoundingClientRect();
    if (own.left < box.left || own.right > box.right || own.top < box.top || own.bottom > box.bottom) {
      t = {
        ...t,
        x: t.x + box.left + box.width / 2 - (own.left + own.width / 2),
        y: t.y + box.top + box.height / 2 - (own.top + own.height / 2),
      };
      apply();
    }
  }

  function focusNode(id) {
    const el = viewport.querySelector(`.node[data-id="${CSS.escape(id)}"]`);
    if (el) el.focus({ preventScroll: true });
  }

  return {
    svg,
    draw,
    highlight,
    fit,
    reveal,
    focusNode,
    zoom: (factor) => {
      const box = svg.getBoundingClientRect();
      zoomAt(factor, box.width / 2, box.height / 2);
    },
  };
}

function marker(id, cls) {
  return s(
    "marker",
    // In user units: an arrow keeps its size whatever the width of the edge it ends.
    {
      id,
      class: cls,
      viewBox: "0 0 10 10",
      refX: "9",
      refY: "5",
      markerUnits: "userSpaceOnUse",
      markerWidth: "9",
      markerHeight: "9",
      orient: "auto",
    },
    s("path", { d: "M0,0 L10,5 L0,10 z" }),
  );
}

function nodeShape(n, at, labels) {
  const color = kindColor(n.kind);
  const text = n.aggregate
    ? `${n.count.toLocaleString("en-US")} ${n.shown ? "more " : ""}${plural(n.kind, n.count)}`
    : shortLabel(n.key, labels.get(n.key));
  const sub = n.aggregate ? `level ${n.degree} · select to list, expand` : `${n.kind}${n.start ? " · start" : ""}`;
  const g = s("g", {
    class: ["node", n.aggregate && "aggregate", n.start && "start"],
    transform: `translate(${at.x},${at.y})`,
    tabindex: "0",
    role: "button",
    "aria-pressed": "false",
    "aria-label": n.aggregate ? `${text} at level ${n.degree}` : `${n.kind} ${text}, level ${n.degree}`,
    "data-id": n.id,
    "data-kind": n.kind,
    "data-degree": n.degree,
    "data-key": n.key,
    "data-group": n.aggregate ? n.gid : null,
    "data-count": n.aggregate ? n.count : null,
  });
  if (n.aggregate)
    g.append(
      s("rect", {
        class: "stack",
        x: 5,
        y: -5,
        width: NODE_W,
        height: NODE_H,
        rx: 6,
        fill: kindTint(n.kind, 0.93),
        stroke: color,
      }),
    );
  g.append(
    s("rect", { class: "box", width: NODE_W, height: NODE_H, rx: 6, fill: kindTint(n.kind), stroke: color }),
    s("rect", { class: "stripe", width: 6, height: NODE_H, rx: 2, fill: color }),
    s("text", { class: "label", x: 14, y: 17 }, clip(text)),
    s("text", { class: "sub", x: 14, y: 32 }, clip(sub, 30)),
    s("title", null, n.aggregate ? `${text} at level ${n.degree}` : n.key),
  );
  return g;
}

function clip(text, max = LABEL_CHARS) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
