// Every user-facing string goes through t(): zh-CN first, English on the switch (kept in localStorage).
import zh from "./i18n/zh-CN.js";
import en from "./i18n/en.js";
import { emit, on } from "./bus.js";

const TABLES = { "zh-CN": zh, en };
const STORAGE_KEY = "parktwin.lang";
let lang = TABLES[localStorage.getItem(STORAGE_KEY)] ? localStorage.getItem(STORAGE_KEY) : "zh-CN";

export const getLang = () => lang;
export const isEnglish = () => lang === "en";

/** The string for `key` in the current language, with {name} placeholders filled from params. */
export function t(key, params) {
  const text = TABLES[lang][key] ?? TABLES["zh-CN"][key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => (params[name] ?? ""));
}

/** t(key, params), or `fallback` where neither language has the key (a code the tables do not know). */
export function tOr(key, fallback, params) {
  const known = (TABLES[lang][key] ?? TABLES["zh-CN"][key]) !== undefined;
  return known ? t(key, params) : fallback;
}

/** An attribute (name, value) as shown in the current language: its label (attr.<name>, else the name) and
 * its value, enumerated codes by their labels (attrValue.<name>.<code>) and lists joined. */
export function attribute(name, value, show = String) {
  const one = (item) => (typeof item === "string" ? tOr(`attrValue.${name}.${item}`, item) : show(item));
  return [tOr(`attr.${name}`, name), Array.isArray(value) ? value.map(one).join(lang === "zh-CN" ? "、" : ", ") : one(value)];
}

/** Switch the language, re-label the static page and tell every panel to redraw. */
export function setLang(next) {
  if (!TABLES[next] || next === lang) return;
  lang = next;
  localStorage.setItem(STORAGE_KEY, next);
  applyI18n();
  emit("lang", next);
}

/** Fill data-i18n (text), data-i18n-title and data-i18n-placeholder attributes under root. */
export function applyI18n(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
}

/** A record's display name: name_en in English when present, else name. */
export function nameOf(record) {
  if (!record) return "";
  return (lang === "en" && record.name_en) || record.name || record.code || "";
}

/** A {zh, en} label dict in the current language. */
export function pick(labels, fallback = "") {
  if (!labels) return fallback;
  return (lang === "en" ? labels.en : labels.zh) || labels.zh || labels.en || fallback;
}

/** Redraw `render` now and whenever the language changes. */
export function onLang(render) {
  return on("lang", render);
}

/** A time for display in the current language (local time zone). */
export function fmtTime(value, withDate = false) {
  if (!value) return "—";
  const date = value instanceof Date ? value : new Date(value);
  const options = withDate
    ? { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }
    : { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false };
  return date.toLocaleString(lang === "en" ? "en-GB" : "zh-CN", options);
}
