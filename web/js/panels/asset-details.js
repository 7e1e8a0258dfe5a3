// Asset details: name, kind, where (building, storey, room), live readings, history chart with a
// time-range picker, active alarms, linked cameras (whose view sector covers it), fly-to.
import { emit, on } from "../bus.js";
import { api, optional, parkUrl } from "../api.js";
import { attribute, fmtTime, nameOf, pick, t, tOr } from "../i18n.js";
import { store, kindLabel, whereIs, readingsOf, putReadings } from "../store.js";
import { sees } from "../map/coverage.js";
import { STATE_CSS } from "../map/icons.js";
import { h, fill, showValue } from "../util/dom.js";
import { base, chart } from "../charts.js";
import { openDrawer, facts, section } from "./drawer.js";
import { alarmTitle } from "./alarms.js";

// Time ranges of the history chart: span (ms) and the aggregation interval asked of the server.
const RANGES = [
  { key: "1h", ms: 3600e3, interval: "1min" },
  { key: "24h", ms: 86400e3, interval: "15min" },
  { key: "7d", ms: 7 * 86400e3, interval: "1h" },
  { key: "30d", ms: 30 * 86400e3, interval: "1d" },
];
const HIDDEN_ATTRIBUTES = new Set(["code", "kind", "name", "name_en", "feature", "id"]);

/** Open the drawer for an asset code; `assets` is the AssetLayer (position and state). */
export async function showAsset(code, { assets, flyTo }) {
  const item = assets.items.get(code);
  if (!item) return;
  const readingsBody = h("tbody");
  const chartEl = h("div", { class: "chart chart-md", id: "history-chart" });
  const rangeBar = h("div", { class: "range-bar" });
  const streamSelect = h("select", { class: "stream-select", id: "history-stream" });
  const alarmsBox = h("div", { class: "asset-alarms" });
  const camerasBox = h("div", { class: "linked-cameras" });
  const attrsBox = h("div", { id: "asset-attributes" });
  const where = whereIs(item.feature);
  const state = () => item.state || "normal";
  const stateBadge = h("span", { class: "state-badge", id: "asset-state", style: { "--c": STATE_CSS[state()] } }, t(`state.${state()}`));
  let range = RANGES[1];
  let history = null;
  let custom = null; // {from, to} Dates

  openDrawer({
    kind: "asset",
    title: nameOf(item),
    subtitle: `${kindLabel(item.kind)} · ${code}`,
    badge: stateBadge,
    actions: [h("button", { type: "button", class: "icon-btn", title: t("common.flyTo"), id: "asset-fly", onclick: () => flyTo(item) }, "◎")],
    body: [
      facts([
        [t("asset.building"), where.building ? link(where.building) : null],
        [t("asset.storey"), where.storey ? nameOf(where.storey) : null],
        [t("asset.space"), where.space ? nameOf(where.space) : null],
        [t("asset.position"), `${item.lon.toFixed(6)}, ${item.lat.toFixed(6)} · ${t("asset.heightAbove", { h: item.height.toFixed(1) })}`],
      ]),
      section("asset.readings", h("table", { class: "readings", id: "asset-readings" },
        h("thead", {}, h("tr", {}, h("th", {}, t("asset.property")), h("th", {}, t("asset.value")), h("th", {}, t("asset.time")))),
        readingsBody)),
      section("asset.history", h("div", { class: "history-tools" }, streamSelect, rangeBar), chartEl),
      section("asset.alarms", alarmsBox),
      item.kind === "camera" ? null : section("asset.cameras", camerasBox),
      section("asset.attributes", attrsBox),
    ],
    onClose: () => {
      unsubscribe.forEach((fn) => fn());
      history?.dispose();
      emit("asset:closed", code);
    },
  });
  history = chart(chartEl);

  const drawReadings = () => {
    const readings = readingsOf(code).sort((a, b) => String(a.property).localeCompare(String(b.property)));
    if (!readings.length) {
      fill(readingsBody, h("tr", {}, h("td", { colspan: 3, class: "muted" }, store.available.sta === false ? t("common.unavailable") : t("asset.noReadings"))));
      return;
    }
    fill(readingsBody, readings.map((r) => h("tr", { dataset: { datastream: r.datastream, property: r.property || "" } },
      h("td", {}, propertyLabel(r)),
      h("td", { class: "value" }, ...valueAndUnit(r)),
      h("td", { class: "muted" }, fmtTime(r.time, true)))));
    const current = streamSelect.value;
    const numeric = readings.filter((r) => typeof r.value === "number" || typeof r.value === "boolean");
    if (streamSelect.options.length !== numeric.length) {
      fill(streamSelect, numeric.map((r) => h("option", { value: r.datastream }, `${propertyLabel(r)}${r.unit ? ` (${r.unit})` : ""}`)));
      if (current && numeric.some((r) => String(r.datastream) === current)) streamSelect.value = current;
      loadHistory();
    }
  };

  const drawRanges = () => fill(rangeBar,
    h("div", { class: "range-chips" }, RANGES.map((r) => h("button", { type: "button", class: `chip ${!custom && r === range ? "on" : ""}`, dataset: { range: r.key }, onclick: () => { custom = null; range = r; drawRanges(); loadHistory(); } }, t(`range.${r.key}`)))),
    h("div", { class: `range-custom ${custom ? "on" : ""}` },
      h("span", {}, t("range.custom")),
      h("input", { type: "datetime-local", class: "range-from", title: t("range.from"), value: custom ? localInput(custom.from) : "", onchange: (e) => setCustom("from", e.target.value) }),
      h("span", {}, "—"),
      h("input", { type: "datetime-local", class: "range-to", title: t("range.to"), value: custom ? localInput(custom.to) : "", onchange: (e) => setCustom("to", e.target.value) })));

  const setCustom = (which, value) => {
    custom = { ...(custom || { from: new Date(Date.now() - range.ms), to: new Date() }), [which]: new Date(value) };
    drawRanges();
    loadHistory();
  };

  const loadHistory = async () => {
    const datastream = streamSelect.value;
    if (!datastream) {
      history.clear();
      history.setOption({ title: { text: t("asset.noHistory"), left: "center", top: "middle", textStyle: { color: "#5d7088", fontSize: 12, fontWeight: "normal" } } });
      return;
    }
    const to = custom?.to || new Date();
    const from = custom?.from || new Date(to.getTime() - range.ms);
    const span = to - from;
    const interval = (RANGES.find((r) => span <= r.ms) || RANGES.at(-1)).interval;
    const reading = store.readings.get(Number(datastream)) || store.readings.get(datastream);
    let rows = [];
    try {
      const data = await optional(`/sta/v1.1/Datastreams(${datastream})/Observations/aggregate?interval=${interval}&func=avg,min,max&from=${from.toISOString()}&to=${to.toISOString()}`);
      rows = (Array.isArray(data) ? data : data?.value || data?.items || data?.buckets || []).map((b) => ({
        time: b.time ?? b.start ?? b.bucket ?? b.phenomenonTime, avg: num(b.avg), min: num(b.min), max: num(b.max),
      }));
    } catch (error) {
      console.warn("history:", error);
    }
    if (streamSelect.value !== datastream) return;
    history.setOption(base({
      grid: { left: 42, right: 12, top: 16, bottom: 26 },
      xAxis: { type: "time", min: from.getTime(), max: to.getTime(), splitLine: { show: false } },
      yAxis: { type: "value", scale: true, name: reading?.unit || "", nameTextStyle: { color: "#6f86a0", fontSize: 10 } },
      title: rows.length ? undefined : { text: t("asset.noHistory"), left: "center", top: "middle", textStyle: { color: "#5d7088", fontSize: 12, fontWeight: "normal" } },
      series: [
        { name: "min", type: "line", data: rows.map((r) => [r.time, r.min]), lineStyle: { opacity: 0 }, stack: "band", symbol: "none", silent: true },
        { name: "max−min", type: "line", data: rows.map((r) => [r.time, r.max !== null && r.min !== null ? r.max - r.min : null]), lineStyle: { opacity: 0 }, stack: "band", symbol: "none", areaStyle: { color: "rgba(34,211,238,0.15)" }, silent: true },
        { name: t("asset.avg"), type: "line", data: rows.map((r) => [r.time, r.avg]), smooth: true, showSymbol: rows.length < 40, symbolSize: 4, lineStyle: { width: 2, color: "#22d3ee" }, itemStyle: { color: "#22d3ee" } },
      ],
    }), true);
    history.parktwinRows = rows.length;
  };
  streamSelect.addEventListener("change", loadHistory);

  const drawAlarms = () => {
    const mine = [...store.alarms.values()].filter((a) => a.asset === code);
    fill(alarmsBox, mine.length
      ? mine.map((a) => h("div", { class: `alarm-chip sev-${a.severity}` }, `${alarmTitle(a)} · ${fmtTime(a.time, true)}`))
      : h("div", { class: "muted" }, t("alarms.none")));
  };

  const drawCameras = () => {
    // Cameras whose view sector covers the device, and those the alarms service linked to its alarms.
    const linked = new Set([...store.alarms.values()].filter((a) => a.asset === code).flatMap((a) => a.linked_cameras || []));
    const cameras = [...assets.items.values()].filter((c) => c.kind === "camera" && c.code !== code && (linked.has(c.code) || sees(c, item.lon, item.lat)));
    cameras.sort((a, b) => Math.hypot(a.lon - item.lon, a.lat - item.lat) - Math.hypot(b.lon - item.lon, b.lat - item.lat));
    fill(camerasBox, cameras.length
      ? cameras.slice(0, 8).map((c) => h("button", { type: "button", class: "camera-link", dataset: { camera: c.code }, onclick: () => emit("focus:asset", c.code) },
        h("span", { class: "dot", style: { background: STATE_CSS[c.state] } }), nameOf(c)))
      : h("div", { class: "muted" }, t("asset.noCameras")));
  };

  const drawAttributes = (record) => {
    const attributes = record?.attributes || item.properties || {};
    fill(attrsBox, facts(Object.entries(attributes)
      .filter(([key]) => !HIDDEN_ATTRIBUTES.has(key))
      .map(([key, value]) => attribute(key, value, showValue))));
  };

  const unsubscribe = [
    on("store:reading", (reading) => {
      if (reading.asset !== code) return;
      drawReadings();
      const row = readingsBody.querySelector(`[data-datastream="${reading.datastream}"]`);
      row?.classList.add("flash");
      if (!custom && range.key === "1h" && String(reading.datastream) === streamSelect.value && typeof reading.value === "number") {
        const option = history.getOption();
        const avg = option.series?.[2]?.data || [];
        history.setOption({ series: [{}, {}, { data: [...avg, [reading.time, reading.value]] }] });
      }
    }),
    on("store:alarms", drawAlarms),
    on("store:state", (event) => {
      if (event.asset !== code) return;
      stateBadge.textContent = t(`state.${event.state}`);
      stateBadge.style.setProperty("--c", STATE_CSS[event.state]);
    }),
  ];

  drawRanges();
  drawReadings();
  drawAlarms();
  if (item.kind !== "camera") drawCameras();
  drawAttributes(null);
  // The full record, and this asset's latest values if the park-wide load did not have them.
  api(parkUrl(`/assets/${encodeURIComponent(code)}`)).then(drawAttributes).catch(() => {});
  const near = [item.lon - 1e-6, item.lat - 1e-6, item.lon + 1e-6, item.lat + 1e-6].join(",");
  optional(`/sta/v1.1/Latest?park=${encodeURIComponent(store.park.slug)}&bbox=${near}`)
    .then((data) => {
      if (data) putReadings(Array.isArray(data) ? data : data.value || data.items || []);
      drawReadings();
    })
    .catch(() => {});
}

/** A Date as the value of a datetime-local input (local time). */
function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function num(value) {
  const n = Number(value);
  return value === null || value === undefined || !Number.isFinite(n) ? null : n;
}

function link(place) {
  return h("button", { type: "button", class: "link", onclick: () => emit("focus:feature", place.code) }, nameOf(place));
}

/** A reading's value and unit: a coded state (on_off, online, elevator_state, charger_status, occupancy) by its
 * label alone (readingValue.<key>.<code>, the seed's codings), anything else as it is with its unit. */
function valueAndUnit(reading) {
  const coded = tOr(`readingValue.${reading.property}.${reading.value}`, null);
  return coded !== null ? [coded] : [showValue(reading.value), reading.unit ? h("small", {}, ` ${reading.unit}`) : null];
}

function propertyLabel(reading) {
  if (reading.label) return pick(reading.label);
  return tOr(`prop.${reading.property}`, reading.property || reading.name || `#${reading.datastream}`);
}
