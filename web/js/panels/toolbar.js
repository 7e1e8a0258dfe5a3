// The map toolbar: layers, colour-by mode, home view, planner tools.
import { emit } from "../bus.js";
import { onLang, t } from "../i18n.js";
import { can } from "../session.js";
import { h, fill } from "../util/dom.js";

export const COLOUR_MODES = ["use", "height", "alarm", "energy"];

/** Mount the toolbar into `nav`; state: {mode}. Emits toolbar:* events. */
export function mountToolbar(nav, state) {
  const render = () => fill(nav,
    h("button", { type: "button", class: "tool", id: "tool-layers", onclick: () => emit("toolbar:layers") }, h("i", { class: "ico ico-layers" }), t("toolbar.layers")),
    h("div", { class: "segmented", role: "group", "aria-label": t("toolbar.colourBy") },
      h("span", { class: "seg-label" }, t("toolbar.colourBy")),
      COLOUR_MODES.map((mode) => h("button", {
        type: "button", class: `seg ${state.mode === mode ? "on" : ""}`, dataset: { mode },
        onclick: () => { state.mode = mode; emit("toolbar:colour", mode); render(); },
      }, t(`colour.${mode}`)))),
    h("button", { type: "button", class: "tool", id: "tool-home", onclick: () => emit("toolbar:home") }, h("i", { class: "ico ico-home" }), t("toolbar.home")),
    can("planner") ? h("button", { type: "button", class: "tool", id: "tool-planner", onclick: () => emit("toolbar:planner") }, h("i", { class: "ico ico-plan" }), t("toolbar.planner")) : null);
  render();
  onLang(render);
  return { render };
}
