// The dashboard's languages. Messages live in web/locales/<language>.json: flat JSON objects of
// key → message, with named placeholders in braces ("{count} devices"). A key with plural forms
// holds an object keyed by the Intl.PluralRules categories ({"one": "…", "other": "…"}).
// English is complete and the fallback for any key another catalogue lacks.
//
// The language: the one chosen here before (localStorage), else the browser's first preferred
// language we have, else English. <html lang> follows, so screen readers and fonts do too.

export const LANGUAGES = [
  { code: "en", name: "English" },
  { code: "zh-CN", name: "中文" },
];
export const DEFAULT_LANGUAGE = "en";
const SAVED = "tracegraph.lang";

let language = DEFAULT_LANGUAGE;
let messages = {};
let fallback = {};
const listeners = new Set();

/** The supported language closest to a BCP 47 tag ("zh", "zh-Hans-CN" → "zh-CN"), or null. */
export function supported(tag) {
  if (!tag) return null;
  const wanted = String(tag).toLowerCase();
  const exact = LANGUAGES.find((l) => l.code.toLowerCase() === wanted);
  if (exact) return exact.code;
  const base = wanted.split("-")[0];
  // Traditional Chinese readers are better served by English than by simplified characters.
  if (base === "zh" && /-(hant|tw|hk|mo)\b/.test(wanted)) return null;
  const same = LANGUAGES.find((l) => l.code.toLowerCase().split("-")[0] === base);
  return same ? same.code : null;
}

function saved() {
  try {
    return localStorage.getItem(SAVED);
  } catch {
    return null; // storage switched off: the browser's preference decides
  }
}

function preferred() {
  const fromBrowser = [...(navigator.languages || []), navigator.language];
  for (const tag of [saved(), ...fromBrowser]) {
    const code = supported(tag);
    if (code) return code;
  }
  return DEFAULT_LANGUAGE;
}

async function catalogue(code) {
  const response = await fetch(`/web/locales/${code}.json`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`no messages for ${code}: HTTP ${response.status}`);
  return response.json();
}

/** Load the messages of the preferred language (once, before the first view renders). */
export async function init() {
  await use(preferred());
}

async function use(code) {
  fallback = Object.keys(fallback).length ? fallback : await catalogue(DEFAULT_LANGUAGE);
  try {
    messages = code === DEFAULT_LANGUAGE ? fallback : await catalogue(code);
    language = code;
  } catch (error) {
    console.warn(error.message); // English rather than a blank dashboard
    messages = fallback;
    language = DEFAULT_LANGUAGE;
  }
  document.documentElement.lang = language;
  translatePage();
}

/** Switch language, remember the choice in this browser, and tell whoever listens. */
export async function setLanguage(code) {
  const chosen = supported(code) || DEFAULT_LANGUAGE;
  try {
    localStorage.setItem(SAVED, chosen);
  } catch {
    /* nothing to keep it in: the choice lasts until reload */
  }
  await use(chosen);
  for (const listener of listeners) listener(language);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function currentLanguage() {
  return language;
}

/** The message for `key` in the current language, placeholders filled from `params`; a number
 * `params.count` picks the plural form. An unknown key shows as itself (and is easy to spot). */
export function t(key, params) {
  let message = key in messages ? messages[key] : fallback[key];
  if (message === undefined) return key;
  if (typeof message === "object") {
    const form = new Intl.PluralRules(language).select(Number(params?.count ?? 0));
    message = message[form] ?? message.other;
  }
  if (!params) return message;
  return message.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

const PAGE_ATTRIBUTES = [
  ["data-i18n-placeholder", "placeholder"],
  ["data-i18n-aria-label", "aria-label"],
  ["data-i18n-title", "title"],
];

/** Fill the static page: elements marked data-i18n (text), data-i18n-placeholder,
 * data-i18n-aria-label and data-i18n-title (those attributes). */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const [data, attr] of PAGE_ATTRIBUTES) {
    for (const el of root.querySelectorAll(`[${data}]`)) el.setAttribute(attr, t(el.getAttribute(data)));
  }
}

/** The language switcher for the header: a labelled <select>, one option per language. */
export function languageSwitcher(h) {
  const select = h(
    "select",
    { id: "lang", "aria-label": t("lang.choose") },
    LANGUAGES.map((l) => h("option", { value: l.code, lang: l.code, selected: l.code === language }, l.name)),
  );
  select.addEventListener("change", () => setLanguage(select.value));
  onLanguageChange(() => {
    select.value = language;
    select.setAttribute("aria-label", t("lang.choose"));
  });
  return select;
}

/** Locale for Intl formatting of numbers and dates. */
export function locale() {
  return language;
}
