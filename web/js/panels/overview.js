// 园区概况 — devices online/offline, open alarms, energy today, free parking, people today.
import { on } from "../bus.js";
import { onLang, t } from "../i18n.js";
import { buildingOf, store, readingsNamed } from "../store.js";
import { h, fill, num, startOfToday, throttle } from "../util/dom.js";
import { frame, kpi } from "./panel.js";
import { electricityTodayText } from "./energy.js";
import { parkingCounts } from "./parking-env.js";

/** Mount the overview panel; `assets` is the AssetLayer (state counts). */
export function mountOverview(section, { assets }) {
  let body;
  const render = () => {
    body = frame(section, "overview.title");
    draw();
  };
  const draw = () => {
    const states = assets.stateCounts();
    const total = assets.items.size;
    const online = total - states.offline;
    const rate = total ? (online / total) * 100 : 0;
    const openAlarms = store.available.alarms === false ? null : store.alarms.size;
    const parking = parkingCounts();
    const people = peopleToday();
    const park = store.park || {};
    const buildings = park.features_by_kind?.building ?? 0;
    fill(body,
      h("div", { class: "park-facts" },
        fact("overview.area", park.properties?.area_m2 ? num(park.properties.area_m2 / 10000, 1) : "—", t("unit.ha")),
        fact("overview.buildings", num(buildings), t("unit.buildings")),
        fact("overview.devices", num(total), t("unit.devices"))),
      h("div", { class: "online-bar", title: `${num(rate, 1)}%` },
        h("div", { class: "online-fill", style: { width: `${rate}%` } })),
      h("div", { class: "online-legend" },
        h("span", { class: "dot s-normal" }), `${t("state.online")} ${num(online)}`,
        h("span", { class: "dot s-offline" }), `${t("state.offline")} ${num(states.offline)}`,
        h("span", { class: "dot s-alarm" }), `${t("state.alarm")} ${num(states.alarm)}`,
        h("b", { class: "online-rate" }, `${num(rate, 1)}%`)),
      h("div", { class: "kpi-grid", id: "overview-kpis" },
        kpi("overview.openAlarms", openAlarms === null ? "—" : num(openAlarms), "", openAlarms ? "tone-alarm" : ""),
        kpi("overview.energyToday", electricityTodayText(), "kWh"),
        kpi("overview.freeParking", parking.total ? num(parking.free) : "—", parking.total ? `/${num(parking.total)}` : ""),
        kpi("overview.peopleToday", people === null ? "—" : num(people), "")));
  };
  render();
  onLang(render);
  const later = throttle(draw, 300); // not a debounce: live readings arrive several times a second, it would never draw
  for (const event of ["store:readings", "store:alarms", "store:state", "assets:changed"]) on(event, later);
  on("energy:drawn", draw); // at once: the energy panel has just drawn today's use, this shows the same figure
}

function fact(labelKey, value, unit) {
  return h("div", { class: "fact" }, h("b", {}, value, h("small", {}, unit)), h("span", {}, t(labelKey)));
}

/** People counted today at the park's own gates (sum of their "people today" readings), or null. A
 * building's turnstiles are left out: whoever passes them came through a park gate and is counted there;
 * so is a counter last heard of before midnight (yesterday's count, until the gate reports again). */
function peopleToday() {
  const midnight = startOfToday();
  const readings = readingsNamed("people_today", "people_count_today", "entries_today", "people_count", "passages_today")
    .filter((r) => !buildingOf(store.assetItems?.get(r.asset)?.feature) && !(new Date(r.time) < midnight));
  if (!readings.length) return null;
  return readings.reduce((sum, r) => sum + (Number(r.value) || 0), 0);
}
