// Building DOM without innerHTML: every value from the store (names, notes, file names) becomes
// a text node, so nothing a source file says can turn into markup or script.
import { t } from "./i18n.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (name === "text") el.textContent = String(value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    // Through the CSSOM, which the page's CSP allows (it forbids style attributes in markup).
    else if (name === "style") for (const [prop, v] of Object.entries(value)) el.style.setProperty(prop, v);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h("a", {href: "#/", class: "x"}, "text", otherNode) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A labelled count ("3 devices") with a thin space-free thousands separator. */
export function fmtInt(n) {
  return Number(n).toLocaleString("en-US");
}

export function fmtTime(iso) {
  if (!iso) return "";
  // Times are UTC in the store; show them so, without the noise of seconds' fractions.
  return String(iso)
    .replace("T", " ")
    .replace(/\.\d+/, "")
    .replace(/Z$|\+00:00$/, " UTC");
}

/** A message box for errors and notes; role=alert makes screen readers announce errors. */
export function notice(kind, ...children) {
  return h("div", { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : "status" }, ...children);
}

/** A button that copies text, for keys and hashes an auditor pastes elsewhere. */
export function copyButton(text, label = t("common.copy")) {
  const btn = h("button", { type: "button", class: "btn-small", "aria-label": `${label}: ${text}` }, label);
  btn.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      btn.textContent = t("common.copied");
    } catch {
      btn.textContent = t("common.selectAndCopy");
    }
    setTimeout(() => (btn.textContent = label), 1500);
  });
  return btn;
}
