// 告警中心 — live list of active alarms by severity; click flies to the place and opens it;
// acknowledge for integrators and admins; a new alarm pops a toast and (optionally) flies there.
import { emit, on } from "../bus.js";
import { fmtTime, nameOf, onLang, t } from "../i18n.js";
import { can } from "../session.js";
import { store, activeAlarms, acknowledgeAlarm } from "../store.js";
import { h, fill, num } from "../util/dom.js";
import { frame, unavailable } from "./panel.js";
import { alarmKindLabel } from "./security.js";
import { toast } from "./toast.js";

const SEVERITY_RANK = { critical: 0, major: 1, minor: 2, warning: 3, info: 4 };
const FILTERS = ["all", "critical", "major", "minor"];

/** Mount the alarm centre. */
export function mountAlarms(section) {
  let filter = "all";
  let autoFly = true;
  let list;
  let tabs;
  const render = () => {
    const follow = h("label", { class: "switch", title: t("alarms.autoFly") },
      h("input", { type: "checkbox", checked: autoFly, onchange: (e) => { autoFly = e.target.checked; } }),
      h("span", {}, t("alarms.autoFlyShort")));
    const body = frame(section, "alarms.title", { actions: [follow] });
    tabs = h("div", { class: "tabs" });
    list = h("ol", { class: "alarm-list", id: "alarm-list" });
    fill(body, tabs, list);
    draw();
  };
  const draw = () => {
    const alarms = activeAlarms();
    const count = (severity) => alarms.filter((a) => severity === "all" || bucket(a.severity) === severity).length;
    fill(tabs, FILTERS.map((f) => h("button", {
      type: "button", class: `tab ${f === filter ? "on" : ""} sev-${f}`, onclick: () => { filter = f; draw(); },
    }, t(`severity.${f}`), h("b", {}, num(count(f))))));
    if (store.available.alarms === false && !alarms.length) {
      fill(list, h("li", { class: "alarm-empty" }, unavailable("alarms.unavailable")));
      return;
    }
    const shown = alarms
      .filter((a) => filter === "all" || bucket(a.severity) === filter)
      .sort((a, b) => (SEVERITY_RANK[a.severity] ?? 5) - (SEVERITY_RANK[b.severity] ?? 5) || String(b.time).localeCompare(String(a.time)));
    if (!shown.length) {
      fill(list, h("li", { class: "alarm-empty" }, h("span", { class: "ok-mark" }, "✓"), t("alarms.none")));
      return;
    }
    fill(list, shown.slice(0, 200).map((alarm) => {
      const acknowledged = alarm.state === "acknowledged" || alarm.acknowledged_at;
      return h("li", {
        class: `alarm sev-${bucket(alarm.severity)} ${acknowledged ? "acked" : ""}`,
        dataset: { alarm: alarm.id, asset: alarm.asset || "" },
        onclick: () => emit("focus:alarm", alarm),
      },
      h("span", { class: "alarm-sev" }, t(`severity.${bucket(alarm.severity)}`)),
      h("div", { class: "alarm-main" },
        h("div", { class: "alarm-title" }, alarmTitle(alarm)),
        h("div", { class: "alarm-meta" }, placeName(alarm), " · ", fmtTime(alarm.time))),
      acknowledged
        ? h("span", { class: "alarm-acked" }, t("alarms.acknowledged"))
        : can("integrator") || store.canAcknowledge
          ? h("button", {
            type: "button", class: "mini", onclick: (e) => { e.stopPropagation(); acknowledge(alarm); },
          }, t("alarms.acknowledge"))
          : null);
    }));
  };
  const acknowledge = async (alarm) => {
    try {
      await acknowledgeAlarm(alarm.id);
      toast(t("alarms.acknowledgedToast"), "ok");
    } catch (error) {
      toast(`${t("alarms.ackFailed")}: ${error.message}`, "error");
    }
  };
  render();
  onLang(render);
  on("store:alarms", draw);
  on("store:alarm-raised", (alarm) => {
    toast(`${t(`severity.${bucket(alarm.severity)}`)} · ${alarmTitle(alarm)} · ${placeName(alarm)}`, "alarm", () => emit("focus:alarm", alarm));
    if (autoFly) emit("focus:alarm", { ...alarm, auto: true });
  });
}

/** Critical / major / minor bucket of a severity name. */
function bucket(severity) {
  if (severity === "critical") return "critical";
  if (severity === "major" || severity === "high") return "major";
  return "minor";
}

/** The alarm's title in the current language (its kind when it has none). */
export function alarmTitle(alarm) {
  if (alarm.title) return nameOf({ name: alarm.title, name_en: alarm.title_en });
  return alarmKindLabel(alarm);
}

function placeName(alarm) {
  const item = alarm.asset && store.assetItems?.get(alarm.asset);
  if (item) return nameOf(item);
  if (alarm.asset_name) return alarm.asset_name;
  const place = store.places.get(alarm.feature) || store.places.get(alarm.building);
  if (place) return nameOf(place);
  if (alarm.building_name) return nameOf({ name: alarm.building_name, name_en: alarm.building_name_en });
  return alarm.feature || alarm.asset || "—";
}
