// What the pages load besides themselves: their one script (served from here, so the CSP can
// allow 'self' and nothing else) and uPlot, the chart library, read from node_modules (no CDN).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/**
 * The job page's script: appends each event's log lines as they come, redraws the posterior chart
 * and the stages from /api/jobs/ID/dashboard and swaps in the commits table the server renders
 * (/jobs/ID/commits) after each event (one round at a time, then one more if events came
 * meanwhile), and reloads once the job stops, to show its result.
 */
export const JOB_SCRIPT = `"use strict";
const log = document.getElementById("log");
const chart = document.getElementById("posterior");
const commits = document.getElementById("commits");
const job = log.dataset.job;
const MARKS = { bad: "#c00", good: "#070", masked: "#d80", skip: "#888" };
let plot;
let fetching = false;
let again = false;

function drawStages(stages) {
  for (const stage of stages) {
    const item = document.querySelector('#stages [data-stage="' + stage.name + '"]');
    if (item) item.className = stage.state;
  }
}

function drawSeries(s) {
  chart.dataset.runs = String(s.runs);
  chart.dataset.leading = String(s.leading);
  const xs = s.mass.map((_, i) => i);
  const marked = (kind) => {
    const ys = xs.map(() => null);
    for (const m of s.marks) if (m.mark === kind) ys[m.index] = s.mass[m.index];
    return ys;
  };
  const data = [xs, s.mass, ...Object.keys(MARKS).map(marked)];
  document.getElementById("posterior-note").textContent =
    "older than the range: " + (s.everywhere * 100).toFixed(1) + "% · the start's crash a flake: " + (s.nowhere * 100).toFixed(1) + "% · " + s.runs + " runs";
  if (plot) {
    plot.setData(data);
    return;
  }
  chart.textContent = "";
  plot = new uPlot({
    width: Math.min(chart.clientWidth || 900, 1200),
    height: 260,
    scales: { x: { time: false }, y: { range: [0, 1] } },
    axes: [{ label: "commits of the range, oldest first", values: (u, ticks) => ticks.map((t) => s.commits[t] ? s.commits[t].slice(0, 7) : "") }, { label: "P(culprit)" }],
    series: [
      { label: "commit", value: (u, v) => (v == null ? "" : s.commits[v] || "") },
      { label: "P(culprit)", stroke: "#36c", fill: "rgba(51,102,204,0.15)", value: (u, v) => (v == null ? "" : v.toFixed(4)) },
      ...Object.entries(MARKS).map(([kind, color]) => ({ label: kind, stroke: color, width: 0, paths: () => null, points: { show: true, size: 9, fill: color, stroke: color } })),
    ],
  }, data, chart);
}

async function redraw() {
  if (fetching) { again = true; return; }
  fetching = true;
  try {
    const answer = await fetch("/api/jobs/" + job + "/dashboard", { credentials: "same-origin" });
    if (answer.ok) {
      const view = await answer.json();
      drawStages(view.stages);
      if (view.series) drawSeries(view.series);
    }
    if (log.dataset.live === "true") {
      const table = await fetch("/jobs/" + job + "/commits", { credentials: "same-origin" });
      // Rendered and escaped by the server, as the page itself.
      if (table.ok) commits.innerHTML = await table.text();
    }
  } finally {
    fetching = false;
    if (again) { again = false; void redraw(); }
  }
}

void redraw();
if (log.dataset.live === "true") {
  const source = new EventSource("/api/jobs/" + job + "/events?after=" + log.dataset.after);
  source.addEventListener("event", (e) => {
    for (const line of JSON.parse(e.data).lines) log.append(line + "\\n");
    void redraw();
  });
  source.addEventListener("end", () => { source.close(); location.reload(); });
}
`;

const require = createRequire(import.meta.url);

/** uPlot's browser build and its stylesheet, read once when first asked for. */
export class ChartLibrary {
  private files: { script: string; style: string } | undefined;

  private load(): { script: string; style: string } {
    this.files ??= {
      script: readFileSync(require.resolve("uplot/dist/uPlot.iife.min.js"), "utf8"),
      style: readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8"),
    };
    return this.files;
  }

  get script(): string {
    return this.load().script;
  }

  get style(): string {
    return this.load().style;
  }
}
