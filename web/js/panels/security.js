// 安防态势 — cameras online, security devices by state, active alarms by kind.
import { on } from "../bus.js";
import { onLang, pick, t } from "../i18n.js";
import { store, kindLabel } from "../store.js";
import { h, fill, num, throttle } from "../util/dom.js";
import { base, chart } from "../charts.js";
import { frame } from "./panel.js";

const SECURITY_KINDS = ["camera", "intrusion_detector", "alarm_button", "access_gate", "fire_equipment"];

/** Mount the security panel; `assets` is the AssetLayer. */
export function mountSecurity(section, { assets }) {
  let stats;
  let pie;
  const render = () => {
    const body = frame(section, "security.title");
    stats = h("div", { class: "sec-grid" });
    const pieEl = h("div", { class: "chart chart-xs", id: "alarm-kinds" });
    fill(body, stats, h("div", { class: "chart-title" }, t("security.alarmsByKind")), pieEl);
    pie?.dispose();
    pie = chart(pieEl);
    draw();
  };
  const draw = () => {
    const byKind = Object.fromEntries(SECURITY_KINDS.map((k) => [k, { total: 0, offline: 0, alarm: 0 }]));
    for (const item of assets.items.values()) {
      const entry = byKind[item.kind];
      if (!entry) continue;
      entry.total++;
      if (item.state === "offline") entry.offline++;
      if (item.state === "alarm") entry.alarm++;
    }
    fill(stats, SECURITY_KINDS.map((kind) => {
      const e = byKind[kind];
      return h("div", { class: `sec ${e.alarm ? "has-alarm" : ""}` },
        h("b", {}, num(e.total - e.offline), h("small", {}, `/${num(e.total)}`)),
        h("span", {}, kindLabel(kind)),
        e.alarm ? h("i", { class: "sec-alarm" }, num(e.alarm)) : null);
    }));
    const counts = new Map();
    for (const alarm of store.alarms.values()) {
      const label = alarmKindLabel(alarm);
      counts.set(label, (counts.get(label) || 0) + 1);
    }
    const data = [...counts.entries()].map(([name, value]) => ({ name, value })).sort((a, b) => b.value - a.value);
    const empty = !data.length;
    pie.setOption(base({
      tooltip: { trigger: "item", show: !empty },
      legend: { show: !empty, orient: "vertical", right: 4, top: "middle", textStyle: { color: "#9fb3c8", fontSize: 10 }, itemWidth: 8, itemHeight: 8, type: "scroll" },
      title: empty ? { text: t("alarms.none"), left: "center", top: "middle", textStyle: { color: "#5d7088", fontSize: 11, fontWeight: "normal" } } : undefined,
      series: [{
        type: "pie", radius: ["52%", "80%"], center: [empty ? "50%" : "28%", "50%"], label: { show: false }, silent: empty,
        itemStyle: { borderColor: "#0a1626", borderWidth: 2 },
        data: empty ? [{ name: "", value: 1, itemStyle: { color: "#16263a" } }] : data,
      }],
    }), true);
  };
  render();
  onLang(render);
  const later = throttle(draw, 300); // not a debounce: live readings arrive several times a second, it would never draw
  on("store:alarms", later);
  on("store:state", later);
  on("assets:changed", later);
}

/** A readable kind for an alarm: its own label, its rule, or its device kind. */
export function alarmKindLabel(alarm) {
  if (alarm.kind_labels) return pick(alarm.kind_labels);
  const kind = alarm.kind;
  const labels = store.alarmVocabulary?.kinds?.[kind];
  if (labels) return pick(labels);
  if (kind && t(`alarmKind.${kind}`) !== `alarmKind.${kind}`) return t(`alarmKind.${kind}`);
  if (alarm.asset_kind) return kindLabel(alarm.asset_kind);
  return kind || t("alarms.other");
}
