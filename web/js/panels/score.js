// 评分 — the park's score on the Chengdu 2021 rubric: total of 500, five dimension bars, the
// indicator list; choosing an indicator shows its rule and evidence and highlights it on the map.
import { emit, on } from "../bus.js";
import { optional, parkUrl } from "../api.js";
import { isEnglish, onLang, pick, t } from "../i18n.js";
import { store } from "../store.js";
import { h, fill, num } from "../util/dom.js";
import { frame, unavailable } from "./panel.js";

const text = (value) => (value && typeof value === "object" ? pick(value) : value ?? "");
const label = (record) => (isEnglish() && (record.name_en || record.title_en)) || record.name || record.title || record.id || record.code;

/** A tiny SVG sparkline of the score over the snapshots (and now), or nothing with fewer than two points. */
function trendLine(trend, now) {
  const values = [...trend.map(([, v]) => v), now].filter(Number.isFinite);
  if (values.length < 2) return null;
  const min = Math.min(...values);
  const span = Math.max(1, Math.max(...values) - min);
  const points = values.map((v, i) => `${(i / (values.length - 1)) * 100},${18 - ((v - min) / span) * 16}`).join(" ");
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 100 20");
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "score-trend");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", points);
  svg.append(line);
  const delta = values.at(-1) - values[0];
  return h("div", { class: "trend-row", title: t("score.trend") }, svg, h("span", { class: delta >= 0 ? "up" : "down" }, `${delta >= 0 ? "▲" : "▼"} ${num(Math.abs(delta), 1)}`));
}

/** Indicators of a score document, each with its dimension id (nested or flat shapes). */
export function indicatorsOf(score) {
  if (!score) return [];
  if (Array.isArray(score.indicators)) return score.indicators;
  const out = [];
  for (const dimension of score.dimensions || []) {
    for (const item of dimension.items || []) {
      for (const indicator of item.indicators || []) out.push({ dimension: dimension.id, item: item.id, ...indicator });
    }
    for (const indicator of dimension.indicators || []) out.push({ dimension: dimension.id, ...indicator });
  }
  return out;
}

/** Mount the score panel. */
export function mountScore(section) {
  let score = null;
  let selected = null;
  let dimensionFilter = null;
  let body;

  let trend = []; // [[time, total]] from the kept snapshots
  const load = async () => {
    try {
      const snapshots = await optional(parkUrl("/score/snapshots?limit=90")).catch(() => null);
      trend = (snapshots || []).map((s) => [s.taken_at, Number(s.total)]);
      score = await optional(parkUrl("/score"));
      store.available.score = Boolean(score);
      store.score = score;
    } catch (error) {
      console.warn("score:", error);
      store.available.score = false;
    }
    render();
  };

  const render = () => {
    body = frame(section, "score.title", {
      actions: [h("button", { type: "button", class: "icon-btn", title: t("score.refresh"), onclick: load }, "⟳")],
    });
    if (!score) {
      fill(body, store.available.score === false ? unavailable("score.unavailable") : h("div", { class: "empty" }, t("common.loading")));
      return;
    }
    const total = Number(score.total ?? score.points ?? 0);
    const max = Number(score.max ?? score.max_points ?? 500);
    const dimensions = score.dimensions || [];
    const indicators = indicatorsOf(score).filter((i) => !dimensionFilter || i.dimension === dimensionFilter || String(i.id || "").startsWith(`${dimensionFilter}.`));
    fill(body,
      h("div", { class: "score-head" },
        h("div", { class: "score-total", style: { "--p": `${max ? (total / max) * 100 : 0}` } },
          h("b", { id: "score-total" }, num(total, 1)), h("small", {}, `/ ${num(max)}`), h("span", {}, t("score.total"))),
        h("div", { class: "dims" }, trendLine(trend, total), dimensions.map((d) => {
          const points = Number(d.points ?? d.score ?? 0);
          const dmax = Number(d.max ?? 100);
          return h("button", {
            type: "button", class: `dim ${dimensionFilter === d.id ? "on" : ""}`,
            onclick: () => { dimensionFilter = dimensionFilter === d.id ? null : d.id; render(); },
          },
          h("span", { class: "dim-name" }, label(d)),
          h("span", { class: "dim-bar" }, h("i", { style: { width: `${dmax ? (points / dmax) * 100 : 0}%` } })),
          h("span", { class: "dim-num" }, `${num(points, 1)}`));
        }))),
      h("ol", { class: "indicators", id: "score-indicators" }, indicators.map((indicator) => {
        const points = Number(indicator.points ?? 0);
        const imax = Number(indicator.max ?? 0);
        const tone = imax && points >= imax ? "full" : points > 0 ? "part" : "none";
        const id = indicator.id ?? indicator.code;
        return h("li", {
          class: `indicator ${tone} ${selected === id ? "on" : ""}`, dataset: { indicator: id },
          onclick: () => choose(indicator),
          title: text(indicator.value_text) || "",
        },
        h("span", { class: "ind-name" }, label(indicator)),
        indicator.map ? h("span", { class: "ind-map", title: t("score.onMap") }, "◎") : null,
        h("span", { class: "ind-points" }, num(points, 1), h("small", {}, `/${num(imax)}`)));
      })));
  };

  const choose = async (indicator) => {
    const id = indicator.id ?? indicator.code;
    if (selected === id) {
      selected = null;
      emit("score:clear");
      render();
      return;
    }
    selected = id;
    render();
    // The detail carries the map geometries (coverage areas, view polygons); the list may not.
    const detail = (await optional(parkUrl(`/score/indicators/${encodeURIComponent(id)}`)).catch(() => null)) || indicator;
    emit("score:indicator", { ...indicator, ...detail });
  };

  render();
  onLang(render);
  on("app:ready", load);
  on("planner:uploaded", load); // a new model can change indicators
  setInterval(() => { if (!document.hidden) load(); }, 5 * 60 * 1000);
  on("score:cleared", () => { selected = null; render(); });
}
