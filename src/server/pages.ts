// Server-rendered pages: the jobs list, a job's page (stages, the posterior chart, result,
// corrections, commits, and the bisection log, which grows live through the job's event stream),
// a crash's page (every bisection of one crash title) and the workers. Every value is escaped by hono's html
// template; the only scripts are served from here (the page's own and uPlot, from node_modules),
// and the pages forbid any other.

import type { Hono, MiddlewareHandler } from "hono";
import { setCookie } from "hono/cookie";
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { LogView } from "../bisect/logview.js";
import { describeProgress, progressOf } from "../bisect/progress.js";
import type { BisectResult } from "../bisect/result.js";
import { goDuration } from "../core/duration.js";
import type { Correction, JobRow, Store } from "../store/store.js";
import { corrected } from "../store/summary.js";
import { authorize, type TokenEntry } from "./access.js";
import { ChartLibrary, JOB_SCRIPT } from "./assets.js";
import { accessOf, need, TOKEN_COOKIE, type Env } from "./auth.js";
import { commitRows, type CommitRow } from "./commits.js";
import { jobDashboard, JobGraphs, StepEstimates } from "./dashboard.js";
import { crashConsoleLog } from "./mail.js";
import { stagesOf, type Stage } from "./stages.js";
import { workersTable, workerView } from "./workers.js";

type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

const POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5em;max-width:80em}table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}pre{background:#f6f6f6;padding:1em;overflow-x:auto}.finished{color:#070}.failed,.cancelled{color:#a00}.hash{font-family:monospace}
#stages{display:flex;gap:.4em;list-style:none;padding:0}#stages li{padding:.2em .8em;border-radius:1em;border:1px solid #bbb;color:#888}#stages li.done{background:#e6f4e6;color:#070;border-color:#7b7}#stages li.current{background:#e6eefc;color:#124;border-color:#36c;font-weight:bold}#stages li.skipped{text-decoration:line-through}
.flag{background:#fde8c8;border-radius:.3em;padding:0 .3em;margin-right:.3em}#posterior{min-height:300px}.crash{max-height:24em}`;

const JS = { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" };

function layout(title: string, body: Page): Page {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><link rel="stylesheet" href="/assets/uplot.css"><style>${raw(STYLE)}</style></head>
<body><nav><a href="/jobs">jobs</a> · <a href="/workers">workers</a></nav>${body}</body></html>`;
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function resultOf(job: JobRow): BisectResult | undefined {
  return job.result ? (JSON.parse(job.result) as BisectResult) : undefined;
}

/** The doubts syzbot's dashboard shows next to a culprit. */
function flagsOf(result: BisectResult | undefined, corrections: readonly Correction[] = []): string[] {
  const flags = result ? [result.noop ? "no-op" : "", result.merge ? "merge" : "", result.release ? "release" : ""] : [];
  if (corrected(null, corrections).source === "invalid") flags.push("invalid");
  return flags.filter((f) => f !== "");
}

function flagList(flags: readonly string[]): Page {
  return html`${flags.map((f) => html`<span class="flag">${f}</span>`)}`;
}

/** A crash's page: its title as a query parameter, which any title fits (slashes, spaces, <>). */
function crashHref(title: string): string {
  return `/crashes?title=${encodeURIComponent(title)}`;
}

/**
 * How far a job got: steps done and left and an ETA while it runs (as the CLI's status line; the
 * steps left estimated from the posterior when the strategy counts none, "—" when not known),
 * what it tested once it ended.
 */
async function progressCell(store: Store, estimates: StepEstimates, job: JobRow, now: number): Promise<string> {
  if (job.status === "queued") return "waiting";
  if (job.status === "running") {
    const events = (await store.events(job.id)).map((s) => s.event);
    return describeProgress(progressOf(events, now, await estimates.of(job, events)), "—");
  }
  const result = resultOf(job);
  return result ? `${result.revisionsTested} tested, ${result.runs} runs, ${goDuration(Math.round(result.time.totalMs / 1000) * 1000)}` : "";
}

async function jobRow(store: Store, estimates: StepEstimates, job: JobRow, corrections: readonly Correction[], now: number): Promise<HtmlEscapedString> {
  const answer = job.outcome === "culprit" && job.culprit ? html`<span class="hash">${job.culprit.slice(0, 12)}</span>` : (job.outcome ?? "");
  return html`<tr><td><a class="hash" href="/jobs/${job.id}">${job.id.slice(0, 8)}</a></td><td class="${job.status}">${job.status}</td><td>${job.kind}</td>
<td>${job.repo}</td><td>${job.crashTitle ? html`<a href="${crashHref(job.crashTitle)}">${job.crashTitle}</a>` : ""}</td><td>${await progressCell(store, estimates, job, now)}</td><td>${answer}</td><td>${job.confidence !== null ? job.confidence.toFixed(2) : ""}</td><td>${flagList(flagsOf(resultOf(job), corrections))}</td><td>${when(job.createdAt)}</td></tr>`;
}

const JOB_HEADER = html`<tr><th>job</th><th>status</th><th>kind</th><th>repo</th><th>crash</th><th>progress</th><th>culprit</th><th>confidence</th><th>flags</th><th>submitted</th></tr>`;

/** Who built and ran it, when workers did (`culprit serve --queue`). */
function workerCell(row: CommitRow): Page {
  const runs = row.ranBy ?? [];
  return html`<td>${row.builtBy !== undefined ? html`build: ${row.builtBy}` : ""}${runs.map((r, i) => html`${i > 0 || row.builtBy !== undefined ? html`<br>` : ""}${r.count}× run: ${r.worker}`)}</td>`;
}

function commitLine(row: CommitRow, byWorkers: boolean): Page {
  const build = row.build;
  const built = !build ? (row.stopped ? "stopped" : "building") : build.ok ? html`<span class="hash">${(build.signature ?? "").slice(0, 12)}</span>${build.cached ? " (cached)" : ""}` : html`<span class="failed">failed</span>`;
  return html`<tr><td class="hash">${row.commit.slice(0, 12)}${row.remedies.length > 0 ? ` + ${row.remedies.join(", ")}` : ""}</td><td>${row.label ?? ""}</td><td>${built}</td>
<td>${row.runs.map((r, i) => html`${i > 0 ? html`<br>` : ""}${r.count}× ${r.outcome}`)}</td><td class="${row.verdict === "bad" ? "failed" : row.verdict === "good" ? "finished" : ""}">${row.verdict ?? ""}</td>
<td>${build ? goDuration(build.durationMs) : ""}</td><td>${row.testMs > 0 ? goDuration(row.testMs) : ""}</td>${byWorkers ? workerCell(row) : ""}</tr>`;
}

function commitTable(commits: readonly CommitRow[]): Page {
  if (commits.length === 0) return html`<p>none tested yet</p>`;
  const byWorkers = commits.some((c) => c.builtBy !== undefined || c.ranBy !== undefined);
  return html`<table><tr><th>commit</th><th>release or title</th><th>build signature</th><th>runs</th><th>verdict</th><th>build</th><th>test</th>${byWorkers ? html`<th>workers</th>` : ""}</tr>${commits.map((c) => commitLine(c, byWorkers))}</table>`;
}

function stageList(stages: readonly Stage[]): Page {
  return html`<ol id="stages">${stages.map((s) => html`<li data-stage="${s.name}" class="${s.state}">${s.name}</li>`)}</ol>`;
}

function resultBlock(result: BisectResult, flags: readonly string[], consoleLog: string | undefined): Page {
  const culprit = result.culprit;
  return html`<h2>Result: ${result.outcome}</h2>
${result.detail ? html`<p>${result.detail}</p>` : ""}
${
  culprit
    ? html`<p id="culprit">culprit <span class="hash">${culprit.hash}</span> ${culprit.title}<br>by ${culprit.author.name} &lt;${culprit.author.email}&gt;, ${culprit.date}</p>
${culprit.diffstat ? html`<pre class="diffstat">${culprit.diffstat}</pre>` : ""}
${culprit.signature ? html`<p>build signature <span class="hash">${culprit.signature.slice(0, 16)}</span> at the culprit, <span class="hash">${(culprit.parentSignature ?? "unknown").slice(0, 16)}</span> at its parent${culprit.signature === culprit.parentSignature ? " (the same: it does not change the build)" : ""}</p>` : ""}`
    : ""
}
<p>confidence ${result.confidence.toFixed(3)}${flags.length > 0 ? html`, flags: ${flagList(flags)}` : ""}; ${result.revisionsTested} revisions tested, ${result.builds} builds, ${result.runs} runs</p>
${result.candidates.length > 0 ? html`<p>${result.candidates.length} candidates: ${result.candidates.map((c) => html`<br><span class="hash">${c.hash.slice(0, 12)}</span> ${c.title}`)}</p>` : ""}
${result.recipients.to.length > 0 ? html`<p>to: ${result.recipients.to.join(", ")}${result.recipients.cc.length > 0 ? `; cc: ${result.recipients.cc.join(", ")}` : ""}</p>` : ""}
${result.report ? html`<h3>Crash: ${result.report.title}</h3>${consoleLog ? html`<p><a href="/api/blobs/${consoleLog}">console log</a></p>` : ""}${result.report.text ? html`<pre class="crash">${result.report.text}</pre>` : ""}` : ""}`;
}

function correctionList(corrections: readonly Correction[], bisected: string | null): Page {
  if (corrections.length === 0) return html``;
  const verdict = corrected(bisected, corrections);
  return html`<h2>Corrections</h2><p id="believed">believed: ${verdict.source === "invalid" ? "result marked invalid" : html`culprit <span class="hash">${verdict.culprit ?? "none"}</span> (${verdict.source})`}</p><ul>${corrections.map((k) => html`<li>${when(k.at)} ${k.by}: ${k.kind === "invalid" ? "marked invalid" : html`culprit <span class="hash">${k.culprit}</span>`} — ${k.reason}</li>`)}</ul>`;
}

export function registerPages(app: Hono<Env>, deps: { store: Store; tokens: readonly TokenEntry[] }): void {
  const { store, tokens } = deps;
  const graphs = new JobGraphs();
  const estimates = new StepEstimates(graphs);
  const chart = new ChartLibrary();

  const signedIn: MiddlewareHandler<Env> = async (c, next) => {
    c.header("content-security-policy", POLICY);
    const access = accessOf(c, tokens, "read");
    if (access.kind === "denied") return c.redirect(`/login?next=${encodeURIComponent(c.req.path + new URL(c.req.url).search)}`);
    await next();
  };
  app.use("/jobs*", signedIn);
  app.use("/crashes*", signedIn);
  app.use("/workers", signedIn);

  app.get("/", (c) => c.redirect("/jobs"));

  app.get("/login", (c) => {
    c.header("content-security-policy", POLICY);
    const next = c.req.query("next") ?? "/jobs";
    return c.html(
      layout(
        "culprit: sign in",
        html`<h1>culprit</h1><form method="post" action="/login"><input type="hidden" name="next" value="${next}">
<label>token <input type="password" name="token" autocomplete="current-password"></label> <button>sign in</button></form>`,
      ),
    );
  });

  app.post("/login", async (c) => {
    const form = await c.req.parseBody();
    const token = typeof form["token"] === "string" ? form["token"] : "";
    // Only back to a page of this site (a crash page with its title as encodeURIComponent wrote it).
    const next = typeof form["next"] === "string" && /^\/(jobs(\/[0-9a-f-]{36})?|workers|crashes\?title=[\w.!~*'()%-]+)$/.test(form["next"]) ? form["next"] : "/jobs";
    if (authorize(tokens, `Bearer ${token}`, "read").kind === "denied") return c.redirect(`/login?next=${encodeURIComponent(next)}`);
    setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.redirect(next);
  });

  app.get("/assets/job.js", (c) => c.body(JOB_SCRIPT, 200, JS));
  app.get("/assets/uplot.js", (c) => c.body(chart.script, 200, JS));
  app.get("/assets/uplot.css", (c) => c.body(chart.style, 200, { "content-type": "text/css; charset=utf-8" }));

  // The job page's live parts as JSON: the posterior over the range and the stages.
  app.get("/api/jobs/:id/dashboard", need(tokens, "read"), async (c) => {
    const id = c.req.param("id");
    const job = /^[0-9a-f-]{36}$/.test(id) ? await store.job(id) : undefined;
    if (!job) return c.json({ error: `no job ${id}` }, 404);
    return c.json(await jobDashboard(store, graphs, job));
  });

  app.get("/jobs", async (c) => {
    const jobs = await store.jobs({ limit: 200 });
    const now = Date.now();
    const corrections = await store.correctionsOf(jobs.map((j) => j.id));
    const rows = await Promise.all(jobs.map((j) => jobRow(store, estimates, j, corrections.get(j.id) ?? [], now)));
    return c.html(layout("culprit: jobs", html`<h1>Jobs</h1><table id="jobs">${JOB_HEADER}${rows}</table>`));
  });

  app.get("/workers", async (c) => {
    const now = Date.now();
    const views = (await store.workers()).map((row) => workerView(row, now));
    return c.html(layout("culprit: workers", html`<h1>Workers</h1>${workersTable(views, now)}`));
  });

  // Every bisection of one crash title (the title as a query parameter, or the path's last part).
  const crashPage = async (title: string): Promise<HtmlEscapedString> => {
    const jobs = (await store.jobs({ crash: title, limit: 1000 })).filter((j) => j.crashTitle === title);
    const now = Date.now();
    const attempts = await Promise.all(
      jobs.map(async (j) => {
        const corrections = await store.corrections(j.id);
        return html`<h3><a class="hash" href="/jobs/${j.id}">${j.id.slice(0, 8)}</a> <span class="${j.status}">${j.status}</span> ${j.kind} bisection of ${j.repo}, ${when(j.createdAt)}</h3>
<p>${await progressCell(store, estimates, j, now)}${j.outcome ? html` · ${j.outcome}` : ""}${j.culprit ? html` <span class="hash">${j.culprit.slice(0, 12)}</span>` : ""}${j.confidence !== null ? ` · confidence ${j.confidence.toFixed(2)}` : ""} ${flagList(flagsOf(resultOf(j), corrections))}</p>
${correctionList(corrections, j.culprit)}`;
      }),
    );
    return layout(`culprit: ${title}`, html`<p><a href="/jobs">jobs</a></p><h1>${title}</h1><p>bisections of this crash (${jobs.length})</p>${attempts}`) as Promise<HtmlEscapedString>;
  };
  app.get("/crashes", async (c) => {
    const title = c.req.query("title") ?? "";
    if (title.length === 0 || title.length > 500) return c.html(layout("culprit: no crash", html`<p>give a crash title: /crashes?title=…</p>`), 400);
    return c.html(await crashPage(title));
  });
  app.get("/crashes/:title{.+}", async (c) => c.html(await crashPage(c.req.param("title"))));

  // The commits table alone, as the job page shows it: its script swaps it in after each event.
  app.get("/jobs/:id/commits", async (c) => {
    const id = c.req.param("id");
    const job = /^[0-9a-f-]{36}$/.test(id) ? await store.job(id) : undefined;
    if (!job) return c.html(html`<p>no job ${id}</p>`, 404);
    return c.html(commitTable(commitRows((await store.events(job.id)).map((s) => s.event))));
  });

  app.get("/jobs/:id", async (c) => {
    const id = c.req.param("id");
    const job = /^[0-9a-f-]{36}$/.test(id) ? await store.job(id) : undefined;
    if (!job) return c.html(layout("culprit: no such job", html`<p>no job ${id}</p>`), 404);
    const stored = await store.events(job.id);
    const events = stored.map((s) => s.event);
    const view = new LogView();
    const lines = events.flatMap((e) => view.lines(e));
    const commits = commitRows(events);
    const corrections = await store.corrections(job.id);
    const result = resultOf(job);
    const live = job.status === "queued" || job.status === "running";
    return c.html(
      layout(
        `culprit: ${job.crashTitle ?? job.id}`,
        html`<p><a href="/jobs">jobs</a>${job.crashTitle ? html` · <a href="${crashHref(job.crashTitle)}">every bisection of this crash</a>` : ""}</p><h1>${job.crashTitle ?? "(crash not known yet)"}</h1>
<p>job <span class="hash">${job.id}</span>: <span id="status" class="${job.status}">${job.status}</span>, ${job.kind} bisection of ${job.repo} (${job.strategy}), submitted by ${job.submittedBy ?? "import"} at ${when(job.createdAt)}${job.retryOf ? html`, retry of <a href="/jobs/${job.retryOf}">${job.retryOf.slice(0, 8)}</a>` : ""}</p>
${job.error ? html`<p class="failed">${job.error}</p>` : ""}
${stageList(stagesOf(events, 0))}
${result ? resultBlock(result, flagsOf(result, corrections), crashConsoleLog(result, stored)) : ""}
${correctionList(corrections, job.culprit)}
<h2>Posterior</h2><div id="posterior"><p>no posterior yet: it starts once the start commit's runs show the crash</p></div><p id="posterior-note"></p>
<h2>Commits</h2><div id="commits">${commitTable(commits)}</div>
<h2>Log</h2><pre id="log" data-job="${job.id}" data-live="${live ? "true" : "false"}" data-after="${events.at(-1)?.seq ?? -1}">${lines.map((l) => `${l}\n`).join("")}</pre>
<script src="/assets/uplot.js"></script><script src="/assets/job.js"></script>`,
      ),
    );
  });
}
