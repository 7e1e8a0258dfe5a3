// A scoring indicator in the drawer: points, measured value, rule, evidence, gap and advice;
// the map meanwhile highlights what earns (green) and loses (red) points.
import { isEnglish, pick, t } from "../i18n.js";
import { h, num, showValue } from "../util/dom.js";
import { openDrawer, facts, section } from "./drawer.js";

/** Evidence for reading: lists of records become their names (or codes), the rest as values. */
function evidenceValue(value) {
  if (Array.isArray(value) && value.some((v) => v && typeof v === "object")) {
    const names = value.map((v) => (v && typeof v === "object" ? (isEnglish() && v.name_en) || v.name || v.code || v.id || JSON.stringify(v) : String(v)));
    return `${names.length}: ${names.slice(0, 12).join("、")}${names.length > 12 ? " …" : ""}`;
  }
  return showValue(value);
}

const text = (value) => (value && typeof value === "object" && ("zh" in value || "en" in value) ? pick(value) : value);

/** Open the drawer for an indicator; `onClose` clears the map highlight. */
export function showIndicator(indicator, { onClose }) {
  const ok = indicator.map?.highlight?.ok || [];
  const missing = indicator.map?.highlight?.missing || [];
  const rule = indicator.rule || {};
  const name = (isEnglish() && indicator.name_en) || indicator.name || indicator.id;
  openDrawer({
    kind: "indicator",
    title: name,
    subtitle: `${indicator.id || ""} · ${num(indicator.points, 1)} / ${num(indicator.max)} ${t("score.points")}`,
    body: [
      facts([
        [t("score.value"), text(indicator.value_text) ?? showValue(indicator.value)],
        [t("score.points"), `${num(indicator.points, 1)} / ${num(indicator.max)}`],
        [t("score.source"), indicator.source ? t(`score.source.${indicator.source}`) : null],
      ]),
      indicator.group ? h("div", { class: "muted small" }, isEnglish() ? indicator.group_en || indicator.group : indicator.group) : null,
      section("score.rule", h("p", { class: "rule-text" }, pick({ zh: rule.zh, en: rule.en }, ""))),
      indicator.map ? section("score.onMap", h("div", { class: "map-key" },
        h("span", { class: "lg" }, h("i", { style: { background: "#2bc48a" } }), `${t("score.ok")} ${ok.length}`),
        h("span", { class: "lg" }, h("i", { style: { background: "#ff4d4f" } }), `${t("score.missing")} ${missing.length}`),
        indicator.map.layer ? h("span", { class: "muted" }, ` · ${indicator.map.layer}`) : null)) : null,
      indicator.gap ? section("score.gap", h("p", {}, text(indicator.gap))) : null,
      indicator.advice?.length ? section("score.advice", h("ul", { class: "advice" }, indicator.advice.map((a) => h("li", {}, text(a.text ?? a) ?? pick(a), a.gain ? h("b", {}, ` +${num(a.gain, 1)}`) : null)))) : null,
      indicator.evidence ? section("score.evidence", facts(Object.entries(indicator.evidence).map(([k, v]) => [k, evidenceValue(v)]))) : null,
    ],
    onClose,
  });
}
