// ECharts (the npm build's dist/echarts.min.js, loaded as a classic script) in the page's dark style.
const echarts = window.echarts;

export const PALETTE = ["#22d3ee", "#3b82f6", "#2bc48a", "#f5a524", "#ff4d4f", "#a78bfa", "#f472b6", "#94a3b8"];
const AXIS = {
  axisLine: { lineStyle: { color: "#2a3b52" } },
  axisTick: { show: false },
  axisLabel: { color: "#8aa0b8", fontSize: 10 },
  splitLine: { lineStyle: { color: "rgba(80, 110, 150, 0.15)" } },
};
const charts = new Set();

/** An ECharts instance on `el` with the dark base options; resized with the window. */
export function chart(el) {
  const instance = echarts.init(el, null, { renderer: "canvas" });
  charts.add(instance);
  return instance;
}

/** Base options merged under a chart's own: transparent background, theme colours, compact grid. */
export function base(options) {
  return {
    backgroundColor: "transparent",
    color: PALETTE,
    animationDuration: 300,
    textStyle: { fontFamily: "inherit", color: "#b8c7d9" },
    grid: { left: 36, right: 10, top: 18, bottom: 22, containLabel: false },
    tooltip: { trigger: "axis", backgroundColor: "rgba(8,18,32,0.95)", borderColor: "#22405f", textStyle: { color: "#dce8f5", fontSize: 12 } },
    ...options,
    xAxis: options.xAxis && { ...AXIS, ...options.xAxis },
    yAxis: options.yAxis && { ...AXIS, ...options.yAxis },
  };
}

export function disposeChart(instance) {
  if (!instance) return;
  charts.delete(instance);
  instance.dispose();
}

window.addEventListener("resize", () => { for (const c of charts) c.resize(); });
