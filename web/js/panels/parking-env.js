// 停车 + 环境监测 — free spaces per car park (spaces coloured live on the map); PM2.5, noise, water quality.
import { emit, on } from "../bus.js";
import { nameOf, onLang, t } from "../i18n.js";
import { store, readingsNamed } from "../store.js";
import { h, fill, num, throttle } from "../util/dom.js";
import { frame } from "./panel.js";

const OCCUPANCY = ["occupancy", "occupied"];

/** True / false / null (unknown) for a parking sensor's reading value. */
export function isOccupied(value) {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value >= 0.5;
  const text = String(value ?? "").toLowerCase();
  if (["occupied", "true", "1", "busy", "taken"].includes(text)) return true;
  if (["free", "false", "0", "available", "vacant"].includes(text)) return false;
  return null;
}

/** Occupancy by parking-space code from the parking sensors' latest readings. */
export function spaceOccupancy() {
  const bySpace = new Map();
  for (const reading of readingsNamed(...OCCUPANCY)) {
    const item = store.assetItems?.get(reading.asset);
    if (!item || item.kind !== "parking_sensor") continue;
    const space = item.properties?.parking_space || item.feature;
    const occupied = isOccupied(reading.value);
    if (space && occupied !== null) bySpace.set(space, occupied);
  }
  return bySpace;
}

/** {total, free, lots: [{code, total, free}]} over the parking spaces with a sensor reading. */
export function parkingCounts() {
  const occupancy = spaceOccupancy();
  const lots = new Map();
  let free = 0;
  for (const [space, occupied] of occupancy) {
    const lot = store.places.get(space)?.parent || "?";
    if (!lots.has(lot)) lots.set(lot, { code: lot, total: 0, free: 0 });
    const entry = lots.get(lot);
    entry.total++;
    if (!occupied) {
      entry.free++;
      free++;
    }
  }
  return { total: occupancy.size, free, lots: [...lots.values()].sort((a, b) => a.code.localeCompare(b.code)) };
}

// Environment indicators: property names to look for, unit, and the limit above which it is shown amber.
const ENVIRONMENT = [
  { key: "pm25", names: ["pm25"], unit: "μg/m³", warn: 75, digits: 0 },
  { key: "pm10", names: ["pm10"], unit: "μg/m³", warn: 150, digits: 0 },
  { key: "noise", names: ["laeq", "noise"], unit: "dB(A)", warn: 60, digits: 1 },
  { key: "temperature", names: ["temperature"], unit: "°C", warn: 35, digits: 1, kinds: ["air_quality_sensor"] },
  { key: "humidity", names: ["humidity"], unit: "%", warn: 90, digits: 0 },
  { key: "ph", names: ["ph"], unit: "", warn: 9, low: 6, digits: 2 },
  { key: "dissolved_oxygen", names: ["dissolved_oxygen"], unit: "mg/L", low: 5, digits: 1 },
  { key: "turbidity", names: ["turbidity"], unit: "NTU", warn: 10, digits: 1 },
];

/** Average latest value of an environment indicator over the park's sensors, or null. */
function average(spec) {
  const values = readingsNamed(...spec.names)
    .filter((r) => !spec.kinds || spec.kinds.includes(store.assetItems?.get(r.asset)?.kind))
    .map((r) => Number(r.value))
    .filter(Number.isFinite);
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** Mount the parking + environment panel; `ground` colours the spaces. */
export function mountParkingEnv(section, { ground }) {
  let body;
  const render = () => {
    body = frame(section, "parkingEnv.title");
    draw();
  };
  const draw = () => {
    const parking = parkingCounts();
    for (const [space, occupied] of spaceOccupancy()) ground.setSpaceOccupied(space, occupied);
    const rate = parking.total ? (parking.free / parking.total) * 100 : 0;
    fill(body,
      h("div", { class: "sub-title" }, t("parking.title")),
      parking.total
        ? h("div", { class: "parking" },
          h("div", { class: "ring", style: { "--p": `${rate}` } },
            h("b", {}, num(parking.free)), h("small", {}, `/ ${num(parking.total)}`), h("span", {}, t("parking.free"))),
          h("div", { class: "lot-list" }, parking.lots.slice(0, 6).map((lot) => h("button", {
            class: "lot", type: "button", title: nameOf(store.places.get(lot.code)),
            onclick: () => emit("focus:feature", lot.code),
          },
          h("span", { class: "lot-name" }, lotName(lot.code)),
          h("span", { class: "lot-bar" }, h("i", { style: { width: `${lot.total ? (lot.free / lot.total) * 100 : 0}%` } })),
          h("span", { class: "lot-num" }, `${lot.free}/${lot.total}`)))))
        : h("div", { class: "empty" }, t("common.noData")),
      h("div", { class: "sub-title" }, t("env.title")),
      h("div", { class: "env-grid" }, ENVIRONMENT.map((spec) => {
        const value = average(spec);
        const bad = value !== null && ((spec.warn !== undefined && value > spec.warn) || (spec.low !== undefined && value < spec.low));
        return h("div", { class: `env ${bad ? "warn" : value === null ? "none" : "good"}`, dataset: { env: spec.key } },
          h("b", {}, value === null ? "—" : num(value, spec.digits), h("small", {}, spec.unit)),
          h("span", {}, t(`env.${spec.key}`)));
      })));
  };
  render();
  onLang(render);
  on("store:readings", throttle(draw, 400)); // not a debounce: live readings never pause long enough for one
  on("app:ready", draw);
}

function lotName(code) {
  const place = store.places.get(code);
  const name = nameOf(place) || code;
  return name.length > 10 ? code : name;
}
