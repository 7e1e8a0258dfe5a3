// Feature details: a building (tile properties from EXT_structural_metadata + the full record from
// /features/{code}), a BIM element (its IFC properties, storey isolation), or a ground feature.
import { emit } from "../bus.js";
import { api, parkUrl } from "../api.js";
import { attribute, nameOf, t, tOr } from "../i18n.js";
import { store, kindLabel } from "../store.js";
import { STATE_CSS } from "../map/icons.js";
import { h, fill, num, showValue } from "../util/dom.js";
import { openDrawer, facts, section } from "./drawer.js";
import { energyByBuilding } from "./energy.js";

/** Tile feature properties as [[id, value]] (EXT_structural_metadata via getPropertyIds/getProperty). */
export function tileProperties(feature) {
  try {
    return feature.getPropertyIds().map((id) => [id, feature.getProperty(id)]);
  } catch {
    return [];
  }
}

/** Open the drawer for a feature code; `tileFeature` (optional) is the picked Cesium3DTileFeature. */
export async function showFeature(code, { tileFeature = null, tiles, assets, flyTo } = {}) {
  const props = tileFeature ? tileProperties(tileFeature) : [];
  const isBim = tileFeature && tiles.isBim(tileFeature.tileset?.parktwinSlug || "");
  const recordBox = h("div", { class: "feature-record" }, h("div", { class: "muted" }, t("common.loading")));
  const tileBox = h("div", { id: "tile-properties" }, facts(props.map(([k, v]) => [k, showValue(v)])));
  const assetsBox = h("div", { class: "feature-assets" });
  const title = nameOf(Object.fromEntries(props)) || nameOf(store.places.get(code)) || code;

  const bimTools = isBim ? storeyTools(tileFeature, tiles) : null;
  const psetsBox = isBim ? h("div", { class: "psets", id: "bim-psets" }, h("div", { class: "muted" }, t("common.loading"))) : null;
  openDrawer({
    kind: "feature",
    title,
    subtitle: isBim ? `${tileFeature.getProperty("ifc_class") || "IFC"} · ${code}` : `${t(`featureKind.${store.places.get(code)?.kind || tileFeature?.getProperty("kind") || "feature"}`)} · ${code}`,
    actions: [h("button", { type: "button", class: "icon-btn", title: t("common.flyTo"), onclick: () => flyTo(code) }, "◎")],
    body: [
      bimTools,
      isBim ? null : section("feature.record", recordBox),
      props.length ? section(isBim ? "feature.ifcProperties" : "feature.tileProperties", tileBox) : null,
      isBim ? section("feature.psets", psetsBox) : null,
      isBim ? null : section("feature.devices", assetsBox),
    ],
    onClose: () => tiles.select(null),
  });
  if (isBim) {
    // The element's full IFC record (every property set and quantity) from PostGIS.
    const model = (tileFeature.tileset.parktwinSlug || "").replace(/^bim-/, "");
    try {
      const element = await api(`/api/v1/models/${encodeURIComponent(model)}/elements/${encodeURIComponent(code)}`);
      fill(psetsBox, Object.entries(element.psets || {}).map(([name, values]) => h("details", { class: "pset" },
        h("summary", {}, name, h("small", {}, ` ${Object.keys(values || {}).length}`)),
        facts(Object.entries(values || {}).map(([k, v]) => [k, showValue(v)])))));
      if (!Object.keys(element.psets || {}).length) fill(psetsBox, h("div", { class: "muted" }, t("common.noData")));
    } catch (error) {
      fill(psetsBox, h("div", { class: "muted" }, error.message));
    }
    return;
  }

  try {
    const record = await api(parkUrl(`/features/${encodeURIComponent(code)}`));
    const p = record.properties || {};
    const energy = energyByBuilding()[code];
    fill(recordBox, facts([
      [t("feature.kind"), t(`featureKind.${p.kind}`)],
      [t("feature.layer"), p.layer],
      [t("feature.ancestors"), (p.ancestors || []).map((a) => nameOf(a) || a.code).join(" › ")],
      [t("feature.height"), p.top_height !== null && p.top_height !== undefined ? `${num(p.top_height, 1)} m` : null],
      [t("feature.base"), p.base_height ? `${num(p.base_height, 1)} m` : null],
      [t("feature.storeys"), p.storeys],
      [t("feature.use"), p.use ? t(`use.${p.use}`) : null],
      [t("feature.heightSource"), heightSource(p.height_source)],
      [t("feature.energyToday"), energy !== undefined ? `${num(energy)} kWh` : null],
      [t("feature.children"), Object.entries(p.children || {}).map(([k, n]) => `${t(`featureKind.${k}`)} ${n}`).join(" · ")],
      ...Object.entries(p)
        .filter(([k]) => !["code", "kind", "name", "name_en", "layer", "parent", "ancestors", "children", "base_height", "top_height", "height_source", "storeys", "use"].includes(k))
        .map(([k, v]) => attribute(k, v, showValue)),
    ]));
  } catch (error) {
    fill(recordBox, h("div", { class: "muted" }, error.message));
  }

  const list = [...assets.items.values()].filter((item) => {
    let place = store.places.get(item.feature);
    for (let guard = 0; place && guard < 6; place = store.places.get(place.parent), guard++) if (place.code === code) return true;
    return item.feature === code;
  });
  const byKind = {};
  for (const item of list) byKind[item.kind] = (byKind[item.kind] || 0) + 1;
  fill(assetsBox, list.length
    ? [
      h("div", { class: "kind-chips" }, Object.entries(byKind).map(([k, n]) => h("span", { class: "chip" }, `${kindLabel(k)} ${n}`))),
      h("div", { class: "asset-list" }, list.slice(0, 60).map((item) => h("button", {
        type: "button", class: "asset-row", dataset: { asset: item.code }, onclick: () => emit("focus:asset", item.code),
      }, h("span", { class: "dot", style: { background: STATE_CSS[item.state] } }), h("span", {}, nameOf(item)), h("small", {}, kindLabel(item.kind))))),
    ]
    : h("div", { class: "muted" }, t("feature.noDevices")));
}

/** Storey isolation for a BIM tileset: one chip per storey seen in its tiles, plus "all". */
function storeyTools(tileFeature, tiles) {
  const slug = tileFeature.tileset.parktwinSlug;
  const box = h("div", { class: "storey-tools" });
  const draw = () => {
    const current = tiles.isolated.get(slug) ?? null;
    fill(box, h("span", { class: "muted" }, t("bim.storeys")),
      h("button", { type: "button", class: `chip ${current === null ? "on" : ""}`, onclick: () => { tiles.isolateStorey(slug, null); draw(); } }, t("bim.allStoreys")),
      tiles.storeysOf(slug).map((storey) => h("button", {
        type: "button", class: `chip ${current === storey ? "on" : ""}`, dataset: { storey },
        onclick: () => { tiles.isolateStorey(slug, storey); draw(); },
      }, storey)));
  };
  draw();
  return section("bim.isolate", box);
}


/** Where a height came from (gis.heights: "attribute:<column>", "storeys", "default"; "flat"), in words. */
function heightSource(source) {
  if (!source) return null;
  const [kind, name] = String(source).split(":");
  return tOr(`heightSource.${kind}`, source, { name });
}
