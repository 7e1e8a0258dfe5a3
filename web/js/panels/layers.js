// 图层 — toggle and count per category: ground layers, building tiles, BIM models, one layer per
// asset kind, alarms, camera coverage.
import { on } from "../bus.js";
import { onLang, pick, t } from "../i18n.js";
import { kindLabel } from "../store.js";
import { GROUND_CATEGORIES } from "../map/ground.js";
import { badgeUrl } from "../map/icons.js";
import { h, fill, num } from "../util/dom.js";

/** Mount the layers panel over the map; `layers` holds {ground, tiles, assets, coverage, alarms}. */
export function mountLayers(section, { ground, tiles, assets, coverage, alarmMarkers }) {
  const visible = { coverage: true, alarms: true };
  const row = (id, label, count, checked, onchange, icon = null) => h("label", { class: "layer-row", dataset: { layer: id } },
    h("input", { type: "checkbox", checked, onchange: (e) => { onchange(e.target.checked); } }),
    icon, h("span", { class: "layer-name" }, label), h("span", { class: "layer-count" }, count === null ? "—" : num(count)));

  const render = () => {
    const kinds = Object.entries(assets.counts()).sort((a, b) => b[1] - a[1]);
    const allOn = kinds.every(([kind]) => !assets.hiddenKinds.has(kind));
    fill(section,
      h("header", { class: "floating-head" }, h("span", {}, t("layers.title")),
        h("button", { type: "button", class: "icon-btn", onclick: () => { section.hidden = true; }, title: t("common.close") }, "✕")),
      h("div", { class: "layers-body" },
        h("h4", {}, t("layers.ground")),
        GROUND_CATEGORIES.filter((c) => ground.counts[c]).map((category) => row(
          `ground:${category}`, t(`layer.${category}`), ground.counts[category] || 0,
          ground.byCategory.get(category)?.[0]?.show !== false,
          (on) => ground.setVisible(category, on),
        )),
        h("h4", {}, t("layers.models")),
        [...tiles.meta.values()].map((meta) => row(
          `tiles:${meta.slug}`, pick({ zh: meta.title, en: meta.title_en }, meta.slug), meta.feature_count ?? null,
          tiles.tilesets.get(meta.slug)?.show !== false,
          (on) => tiles.setVisible(meta.slug, on),
        )),
        tiles.meta.size ? null : h("div", { class: "muted small" }, t("layers.noModels")),
        h("h4", {}, t("layers.monitoring")),
        row("alarms", t("layer.alarms"), alarmMarkers.count(), visible.alarms, (on) => { visible.alarms = on; alarmMarkers.setVisible(on); }),
        row("coverage", t("layer.coverage"), coverage.count, visible.coverage, (on) => { visible.coverage = on; coverage.setVisible(on); }),
        h("h4", {}, t("layers.devices"),
          h("button", { type: "button", class: "link small", onclick: () => { for (const [kind] of kinds) assets.setKindVisible(kind, !allOn); render(); } },
            allOn ? t("layers.noneOn") : t("layers.allOn"))),
        h("div", { class: "kind-rows" }, kinds.map(([kind, count]) => row(
          `asset:${kind}`, kindLabel(kind), count, !assets.hiddenKinds.has(kind),
          (on) => assets.setKindVisible(kind, on),
          h("img", { class: "layer-icon", src: badgeUrl(kind), alt: "" }),
        )))));
  };
  // Redrawn only while shown: it is hidden most of the time.
  const refresh = () => { if (!section.hidden) render(); };
  refresh();
  onLang(refresh);
  on("assets:changed", refresh);
  on("tiles:changed", refresh);
  on("alarms:markers", refresh);
  return { render };
}
