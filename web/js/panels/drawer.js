// The side drawer over the right column: one view at a time (asset, feature, indicator, ...).
import { h, fill } from "../util/dom.js";
import { emit } from "../bus.js";
import { t } from "../i18n.js";

const el = () => document.getElementById("drawer");
let cleanup = null;

/** Open the drawer with a title, header extras and a body; `onClose` runs when it closes or is replaced. */
export function openDrawer({ title, subtitle, badge, actions = [], body, onClose, kind = "" }) {
  const drawer = el();
  runCleanup();
  cleanup = onClose || null;
  fill(drawer,
    h("header", { class: "drawer-head" },
      badge || null,
      h("div", { class: "drawer-titles" }, h("h2", { id: "drawer-title" }, title), subtitle ? h("div", { class: "drawer-sub" }, subtitle) : null),
      h("div", { class: "drawer-actions" }, actions,
        h("button", { type: "button", class: "icon-btn", title: t("common.close"), id: "drawer-close", onclick: closeDrawer }, "✕"))),
    h("div", { class: "drawer-body" }, body));
  drawer.dataset.kind = kind;
  drawer.hidden = false;
  document.body.classList.add("drawer-open");
}

export function closeDrawer() {
  const drawer = el();
  runCleanup();
  drawer.hidden = true;
  drawer.dataset.kind = "";
  document.body.classList.remove("drawer-open");
  emit("drawer:closed");
}

export const drawerKind = () => (el().hidden ? "" : el().dataset.kind);

function runCleanup() {
  const fn = cleanup;
  cleanup = null;
  if (fn) fn();
}

/** A definition list of [label, value] rows (values may be nodes). */
export function facts(rows) {
  return h("dl", { class: "facts" }, rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

/** A titled section of the drawer. */
export function section(titleKey, ...children) {
  return h("section", { class: "drawer-section" }, h("h3", {}, t(titleKey)), children);
}
