// The dashboard's only script: draws the equity/drawdown chart (uPlot, vendored) and refreshes
// the page's content in place every data-refresh seconds (no full reload; paused while the tab
// is hidden). window.autotrader exposes counters the browser tests read.
(function () {
  "use strict";
  const state = { refreshes: 0, charts: 0, errors: 0 };
  window.autotrader = state;
  let charts = [];

  function drawCharts() {
    charts.forEach((chart) => chart.destroy());
    charts = [];
    document.querySelectorAll("[data-chart=equity]").forEach((box) => {
      const source = document.getElementById(box.dataset.source);
      if (!source || typeof uPlot === "undefined") return;
      const points = JSON.parse(source.textContent);
      const times = points.map((p) => Date.parse(p.time) / 1000);
      const equity = points.map((p) => Number(p.equity));
      const drawdown = points.map((p) => -100 * Number(p.drawdown));
      const width = Math.max(280, box.clientWidth - 8);
      const options = {
        width: width,
        height: width < 500 ? 220 : 300,
        series: [
          {},
          { label: "equity", stroke: "#14213d", width: 2, scale: "usd",
            value: (u, v) => (v == null ? "" : v.toFixed(2)) },
          { label: "drawdown %", stroke: "#b3261e", fill: "rgba(179,38,30,0.12)", scale: "pct",
            value: (u, v) => (v == null ? "" : v.toFixed(2) + "%") },
        ],
        axes: [
          {},
          { scale: "usd", size: 70 },
          { scale: "pct", side: 1, grid: { show: false }, values: (u, vs) => vs.map((v) => v + "%") },
        ],
        scales: { pct: { range: (u, min) => [Math.min(min, -1) * 1.1, 0] } },
      };
      charts.push(new uPlot(options, [times, equity, drawdown], box));
      state.charts += 1;
    });
  }

  async function refresh() {
    const content = document.getElementById("content");
    if (!content || document.hidden) return;
    try {
      const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
      if (!response.ok) throw new Error("HTTP " + response.status);
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html").getElementById("content");
      if (!fresh) throw new Error("no content in the page");
      content.replaceChildren(...fresh.childNodes);
      drawCharts();
      state.refreshes += 1;
      status("updated " + new Date().toLocaleTimeString());
    } catch (error) {
      state.errors += 1;
      status("refresh failed (" + error.message + "); retrying");
    }
  }

  function status(text) {
    const element = document.getElementById("refresh-status");
    if (element) element.textContent = text;
  }

  document.addEventListener("DOMContentLoaded", () => {
    drawCharts();
    const content = document.getElementById("content");
    const seconds = Number(content && content.dataset.refresh);
    if (seconds > 0) window.setInterval(refresh, seconds * 1000);
    let resizing;
    window.addEventListener("resize", () => {
      window.clearTimeout(resizing);
      resizing = window.setTimeout(drawCharts, 200);
    });
  });
})();
