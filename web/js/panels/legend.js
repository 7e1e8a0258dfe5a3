// The legend under the map: device states, and the colours of the current building colour mode.
import { onLang, t } from "../i18n.js";
import { STATE_CSS } from "../map/icons.js";
import { USE_PALETTE, HEIGHT_STOPS, ENERGY_STOPS, STATE_COLOURS } from "../map/tiles.js";
import { h, fill } from "../util/dom.js";

const swatch = (css, label) => h("span", { class: "lg" }, h("i", { style: { background: css } }), label);

/** Mount the legend; call the returned update(mode, uses) when the colour mode changes. */
export function mountLegend(el) {
  let mode = "use";
  let uses = [];
  const render = () => {
    let buildings;
    if (mode === "height") buildings = [...HEIGHT_STOPS].reverse().map(([min, css]) => swatch(css, `≥${min} m`));
    else if (mode === "alarm") buildings = ["alarm", "warning", "normal"].map((s) => swatch(STATE_COLOURS[s], t(`state.${s}`)));
    else if (mode === "energy") buildings = [...ENERGY_STOPS].reverse().map(([min, css], i) => swatch(css, i === 0 ? t("legend.low") : i === ENERGY_STOPS.length - 1 ? t("legend.high") : ""));
    else buildings = uses.map((use) => swatch(USE_PALETTE[use] || "#8da2b8", t(`use.${use}`)));
    fill(el,
      h("div", { class: "legend-group" }, h("b", {}, t("legend.devices")), ["normal", "warning", "alarm", "offline"].map((s) => swatch(STATE_CSS[s], t(`state.${s}`)))),
      h("div", { class: "legend-group" }, h("b", {}, t(`colour.${mode}`)), buildings));
  };
  render();
  onLang(render);
  return (nextMode, nextUses = uses) => {
    mode = nextMode;
    uses = nextUses;
    render();
  };
}
