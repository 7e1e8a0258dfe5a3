// 能耗监测 — electricity and water used today, the park's hourly load today, consumption by building.
// Meters report cumulative counters (kWh, m³): today's use is the counter's rise since local midnight,
// read once per meter from the hourly aggregate (max per hour) and then advanced by live readings.
import { emit, on } from "../bus.js";
import { optional } from "../api.js";
import { nameOf, onLang, t } from "../i18n.js";
import { store } from "../store.js";
import { h, fill, num, startOfToday, throttle } from "../util/dom.js";
import { base, chart } from "../charts.js";
import { frame } from "./panel.js";

const ENERGY_KEYS = new Set(["energy"]);
const WATER_KEYS = new Set(["water_volume"]);
// datastream id → {asset, utility, start (counter at midnight), last (newest counter), hours: Map(hour ISO → use)}
const meters = new Map();
let loaded = false;

/** The building a meter measures as a whole (its feature is the building), or null for sub-meters. */
function buildingTotalOf(code) {
  const item = store.assetItems?.get(code);
  const place = item && store.places.get(item.feature);
  return place?.kind === "building" ? place.code : null;
}

/** "electricity" or "water" for a building total meter's counter reading, else null. */
function utilityOf(reading) {
  const utility = ENERGY_KEYS.has(reading.property) ? "electricity" : WATER_KEYS.has(reading.property) ? "water" : null;
  return utility && buildingTotalOf(reading.asset) ? utility : null;
}

/** Cumulative meter datastreams of the park: [{reading, utility}] (building totals only). */
function meterStreams() {
  const out = [];
  for (const reading of store.readings.values()) {
    const utility = utilityOf(reading);
    if (utility) out.push({ reading, utility });
  }
  return out;
}

/** A reading's counter value, or null (no value yet). */
function counterOf(reading) {
  const value = Number.parseFloat(reading?.value);
  return Number.isFinite(value) ? value : null;
}

/** Count a meter's use today from `start` (its counter at midnight, or when first heard of today). */
function addMeter(reading, utility, start, last = start, hours = new Map()) {
  meters.set(reading.datastream, { asset: reading.asset, utility, start, last, hours });
}

/** Energy used today: {kwh, water} summed over building total meters (null: no meter data at all). */
export function energyToday() {
  if (!loaded || !meters.size) return { kwh: null, water: null };
  let kwh = 0;
  let water = 0;
  for (const meter of meters.values()) {
    const use = Math.max(0, meter.last - meter.start);
    if (meter.utility === "electricity") kwh += use;
    else water += use;
  }
  return { kwh, water };
}

// Today's use as this panel last drew it: the overview shows this very figure, redrawn in the same
// task (event "energy:drawn"), so the two never disagree between their redraws.
let shownToday = { kwh: null, water: null };

/** Today's electricity for display, the one shown by both this panel and the overview: "—" only
 * without meter data (a meter that has not moved since midnight is a real 0). */
export function electricityTodayText() {
  return num(shownToday.kwh, 0);
}

/** kWh used today by building code. */
export function energyByBuilding() {
  const out = {};
  for (const meter of meters.values()) {
    if (meter.utility !== "electricity") continue;
    const code = buildingTotalOf(meter.asset);
    if (code) out[code] = (out[code] || 0) + Math.max(0, meter.last - meter.start);
  }
  return out;
}

/** Energy intensity today (kWh per m² of floor area) as a rank 0..1 across buildings (0 the lowest,
 * 1 the highest), by building code: ranks spread the colours where raw values bunch up. */
export function energyIntensity() {
  const perArea = Object.entries(energyByBuilding()).map(([code, kwh]) => {
    const place = store.places.get(code);
    const area = (Number(place?.properties?.footprint_m2) || 1000) * (Number(place?.storeys) || 1);
    return [code, kwh / area];
  }).sort((a, b) => a[1] - b[1]);
  return Object.fromEntries(perArea.map(([code], i) => [code, perArea.length > 1 ? i / (perArea.length - 1) : 0]));
}

/** The park's electricity per hour today: [[hour start ISO, kWh]]. */
function hourlyTrend() {
  const hours = new Map();
  for (const meter of meters.values()) {
    if (meter.utility !== "electricity") continue;
    for (const [hour, use] of meter.hours) hours.set(hour, (hours.get(hour) || 0) + use);
  }
  return [...hours.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

/** Read today's hourly counters of every building meter (a few requests at a time). */
async function loadToday() {
  const midnight = startOfToday();
  const queue = meterStreams();
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const { reading, utility } = next;
      const data = await optional(`/sta/v1.1/Datastreams(${reading.datastream})/Observations/aggregate?interval=1h&func=min,max&from=${midnight.toISOString()}&to=${new Date(Date.now() + 60e3).toISOString()}`).catch(() => null);
      const buckets = (data?.buckets || []).filter((b) => Number.isFinite(b.max));
      if (!buckets.length) { // nothing since midnight yet (early in the day): 0 so far, from its latest counter
        const counter = counterOf(store.readings.get(reading.datastream));
        if (counter !== null && !meters.has(reading.datastream)) addMeter(reading, utility, counter); // (or heard of live by now)
        continue;
      }
      const hours = new Map();
      let previous = buckets[0].min;
      for (const bucket of buckets) {
        hours.set(bucket.start, Math.max(0, bucket.max - previous));
        previous = bucket.max;
      }
      addMeter(reading, utility, buckets[0].min, buckets.at(-1).max, hours);
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  loaded = true;
}

/** A live counter reading advances today's use and the current hour; a meter first heard of today
 * (no reading stored since midnight, also while today's are being read) is counted from this reading on. */
function advance(reading) {
  const meter = meters.get(reading.datastream);
  const value = counterOf(reading);
  if (!meter) {
    const utility = value !== null && utilityOf(reading);
    if (utility) addMeter(reading, utility, value);
    return Boolean(utility);
  }
  if (value === null || value < meter.last) return false;
  const hour = new Date(reading.time || Date.now());
  hour.setMinutes(0, 0, 0);
  const key = hour.toISOString().replace(".000Z", "Z");
  meter.hours.set(key, (meter.hours.get(key) || 0) + (value - meter.last));
  meter.last = value;
  return true;
}

/** Mount the energy panel. */
export function mountEnergy(section) {
  let trendChart = null;
  let buildingChart = null;
  let kpis;

  const render = () => {
    const body = frame(section, "energy.title");
    kpis = h("div", { class: "kpi-row", id: "energy-kpis" });
    const trendEl = h("div", { class: "chart chart-sm", id: "energy-trend" });
    const buildingEl = h("div", { class: "chart chart-sm", id: "energy-buildings" });
    fill(body, kpis, h("div", { class: "chart-title" }, t("energy.trend")), trendEl,
      h("div", { class: "chart-title" }, t("energy.byBuilding")), buildingEl);
    trendChart?.dispose();
    buildingChart?.dispose();
    trendChart = chart(trendEl);
    buildingChart = chart(buildingEl);
    buildingChart.on("click", (p) => p.data?.code && emit("focus:feature", p.data.code));
    draw();
  };

  const draw = () => {
    const today = shownToday = energyToday();
    const powerReadings = [...store.readings.values()]
      .filter((r) => r.property === "power" && buildingTotalOf(r.asset) && Number.isFinite(Number(r.value)));
    const power = powerReadings.length ? powerReadings.reduce((s, r) => s + Number(r.value), 0) : null; // a real 0 kW is shown
    fill(kpis,
      h("div", { class: "kpi" }, h("div", { class: "kpi-value accent" }, electricityTodayText(), h("small", {}, "kWh")), h("div", { class: "kpi-label" }, t("energy.electricityToday"))),
      h("div", { class: "kpi" }, h("div", { class: "kpi-value" }, today.water === null ? "—" : num(today.water, 1), h("small", {}, "m³")), h("div", { class: "kpi-label" }, t("energy.waterToday"))),
      h("div", { class: "kpi" }, h("div", { class: "kpi-value" }, power === null ? "—" : num(power, 0), h("small", {}, "kW")), h("div", { class: "kpi-label" }, t("energy.powerNow"))));
    const byBuilding = Object.entries(energyByBuilding()).sort((a, b) => b[1] - a[1]).slice(0, 5).reverse();
    if (!byBuilding.length) {
      buildingChart.clear();
      buildingChart.setOption({ title: noData() });
    } else {
      buildingChart.setOption(base({
        grid: { left: 96, right: 44, top: 2, bottom: 2 },
        tooltip: { trigger: "item" },
        xAxis: { type: "value", show: false },
        // interval 0: every bar is named (by default ECharts drops every other label of a chart this low);
        // names are cut to the room there is, not to a count of characters (Latin ones are narrower)
        yAxis: { type: "category", data: byBuilding.map(([code]) => buildingLabel(code)), axisLabel: { color: "#9fb3c8", fontSize: 10, interval: 0, width: 86, overflow: "truncate", ellipsis: "…" } },
        series: [{ type: "bar", data: byBuilding.map(([code, v]) => ({ value: Math.round(v), code })), barWidth: 7, itemStyle: { borderRadius: 4, color: linear("#3b82f6", "#22d3ee") }, label: { show: true, position: "right", color: "#9fb3c8", fontSize: 10 } }],
      }), true);
    }
    const trend = hourlyTrend();
    if (!trend.length) {
      trendChart.clear();
      trendChart.setOption({ title: noData() });
    } else {
      trendChart.setOption(base({
        grid: { left: 40, right: 8, top: 14, bottom: 20 },
        xAxis: { type: "category", data: trend.map(([hour]) => `${new Date(hour).getHours()}:00`), axisLabel: { color: "#8aa0b8", fontSize: 9 } },
        yAxis: { type: "value", splitNumber: 3, axisLabel: { color: "#8aa0b8", fontSize: 9 } },
        series: [{ type: "bar", data: trend.map(([, v]) => Math.round(v)), barWidth: "55%", itemStyle: { borderRadius: [2, 2, 0, 0], color: linear("#22d3ee", "rgba(59,130,246,0.3)", true) } }],
      }), true);
    }
    emit("energy:drawn");
  };

  render();
  onLang(render);
  const later = throttle(draw, 800); // not a debounce: live readings arrive several times a second, it would never draw
  on("store:reading", (reading) => { if (advance(reading)) later(); });
  on("store:readings", later);
  on("app:ready", async () => {
    await loadToday().catch((e) => console.warn("energy today:", e));
    draw();
  });
}

/** A building's name in the current language, else its other name or its code. */
const buildingLabel = (code) => nameOf(store.places.get(code)) || code;
const noData = () => ({ text: t("common.noData"), left: "center", top: "middle", textStyle: { color: "#5d7088", fontSize: 12, fontWeight: "normal" } });

function linear(from, to, vertical = false) {
  return new window.echarts.graphic.LinearGradient(0, 0, vertical ? 0 : 1, vertical ? 1 : 0, [{ offset: 0, color: from }, { offset: 1, color: to }]);
}
