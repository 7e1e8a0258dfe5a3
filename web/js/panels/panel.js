// The frame every dashboard panel shares: a title bar (with optional actions) and a body.
import { h, fill } from "../util/dom.js";
import { t } from "../i18n.js";

/** Draw the frame into `section`; returns the body element to fill. */
export function frame(section, titleKey, { actions = [], sub } = {}) {
  const body = h("div", { class: "panel-body" });
  fill(section,
    h("header", { class: "panel-head" },
      h("span", { class: "panel-title" }, t(titleKey)),
      sub ? h("span", { class: "panel-sub" }, sub) : null,
      h("span", { class: "panel-actions" }, actions)),
    body);
  return body;
}

/** A muted line saying the data is not available on this server (yet), with the reason. */
export function unavailable(reasonKey = "common.unavailable") {
  return h("div", { class: "empty" }, h("span", { class: "empty-dot" }), t(reasonKey));
}

/** A KPI tile: big value, unit and label. */
export function kpi(labelKey, value, unit = "", tone = "") {
  return h("div", { class: `kpi ${tone}` },
    h("div", { class: "kpi-value" }, value, unit ? h("small", {}, unit) : null),
    h("div", { class: "kpi-label" }, t(labelKey)));
}
