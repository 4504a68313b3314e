// The server's view of its workers, for /api/workers and the /workers page: each as it announced
// itself, what its last heartbeat said it had in hand, when that was, and what its silence means.

import { html } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { goDuration } from "../core/duration.js";
import { announcement, MISSED_HEARTBEATS, workInHand, workerState, type WorkerState, type WorkInHand } from "../queue/presence.js";
import type { WorkerRow } from "../store/store.js";

export interface WorkerView {
  name: string;
  capabilities: string[];
  concurrency: { builds: number; runs: number };
  heartbeatMs: number;
  /** Shown as gone once it has been silent this long. */
  goneAfterMs: number;
  announcedAt: number;
  lastSeen: number;
  /** What its last heartbeat said it had in hand; nothing once it stopped or is gone. */
  doing: WorkInHand[];
  state: WorkerState;
}

/** A row as shown; its JSON columns were checked when they came in, and are read the same way. */
export function workerView(row: WorkerRow, now: number): WorkerView {
  const state = workerState({ lastSeen: row.lastSeen, heartbeatMs: row.heartbeatMs, stopped: row.stopped === 1 }, now);
  const capabilities = announcement.shape.capabilities.safeParse(JSON.parse(row.capabilities));
  const concurrency = announcement.shape.concurrency.safeParse(JSON.parse(row.concurrency));
  const doing = workInHand.array().safeParse(JSON.parse(row.doing));
  return {
    name: row.name,
    capabilities: capabilities.success ? capabilities.data : [],
    concurrency: concurrency.success ? concurrency.data : { builds: 0, runs: 0 },
    heartbeatMs: row.heartbeatMs,
    goneAfterMs: MISSED_HEARTBEATS * row.heartbeatMs,
    announcedAt: row.announcedAt,
    lastSeen: row.lastSeen,
    // A gone worker's last word is stale: its requests go to other workers.
    doing: state === "live" && doing.success ? doing.data : [],
    state,
  };
}

function ago(ms: number): string {
  return `${goDuration(Math.max(0, Math.round(ms / 1000)) * 1000)} ago`;
}

function doingCell(doing: readonly WorkInHand[]): HtmlEscapedString | Promise<HtmlEscapedString> {
  if (doing.length === 0) return html`idle`;
  return html`${doing.map(
    (d, i) =>
      html`${i > 0 ? html`<br>` : ""}${d.phase === "build" ? "building" : "running"} <span class="hash">${d.commit.slice(0, 12)}</span>${d.remedies.length > 0 ? ` + ${d.remedies.join(", ")}` : ""} for <a class="hash" href="/jobs/${d.job}">${d.job.slice(0, 8)}</a>`,
  )}`;
}

/** The /workers page's table, live workers first. */
export function workersTable(views: readonly WorkerView[], now: number): HtmlEscapedString | Promise<HtmlEscapedString> {
  if (views.length === 0) return html`<p>no worker has announced itself: without <code>--queue</code> this server builds and runs everything itself</p>`;
  const order: Record<WorkerState, number> = { live: 0, stopped: 1, gone: 2 };
  const sorted = [...views].sort((a, b) => order[a.state] - order[b.state] || a.name.localeCompare(b.name));
  return html`<table id="workers"><tr><th>worker</th><th>state</th><th>capabilities</th><th>concurrency</th><th>doing</th><th>last seen</th><th>started</th></tr>${sorted.map(
    (w) =>
      html`<tr data-worker="${w.name}"><td>${w.name}</td><td class="${w.state === "live" ? "finished" : w.state === "gone" ? "failed" : ""}">${w.state}</td><td>${w.capabilities.join(", ")}</td><td>${w.concurrency.builds} at once, ${w.concurrency.runs} runs each</td><td>${doingCell(w.doing)}</td><td>${ago(now - w.lastSeen)}</td><td>${ago(now - w.announcedAt)}</td></tr>`,
  )}</table><p>a worker is shown as gone after ${MISSED_HEARTBEATS} missed heartbeats (it sends one every half <code>--lock-duration</code>: 45s by default)</p>`;
}
