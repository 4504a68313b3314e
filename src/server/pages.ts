// Server-rendered pages: the jobs list and a job's page (state, result, corrections, and the
// bisection log, which grows live through the job's event stream). Every value is escaped by
// hono's html template; the only script is served from here, and the pages forbid any other.

import type { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";
import { LogView } from "../bisect/logview.js";
import type { BisectResult } from "../bisect/result.js";
import { goDuration } from "../core/duration.js";
import type { JobRow, Store } from "../store/store.js";
import { corrected } from "../store/summary.js";
import { authorize, type TokenEntry } from "./access.js";
import { accessOf, TOKEN_COOKIE, type Env } from "./auth.js";
import { commitRows, type CommitRow } from "./commits.js";

type Page = HtmlEscapedString | Promise<HtmlEscapedString>;

const POLICY = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

const STYLE = `body{font-family:system-ui,sans-serif;margin:1.5em;max-width:80em}table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}pre{background:#f6f6f6;padding:1em;overflow-x:auto}.finished{color:#070}.failed,.cancelled{color:#a00}.hash{font-family:monospace}`;

/** Appends each event's log lines to the page's log as they come; reloads once the job stops, to show its result. */
const FOLLOW_SCRIPT = `const log = document.getElementById("log");
const job = log.dataset.job;
const source = new EventSource("/api/jobs/" + job + "/events?after=" + log.dataset.after);
source.addEventListener("event", (e) => {
  for (const line of JSON.parse(e.data).lines) log.append(line + "\\n");
});
source.addEventListener("end", () => { source.close(); location.reload(); });
`;

function layout(title: string, body: Page): Page {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${raw(STYLE)}</style></head>
<body>${body}</body></html>`;
}

function when(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

function jobRow(job: JobRow): Page {
  const answer = job.outcome === "culprit" && job.culprit ? html`<span class="hash">${job.culprit.slice(0, 12)}</span>` : (job.outcome ?? "");
  return html`<tr><td><a class="hash" href="/jobs/${job.id}">${job.id.slice(0, 8)}</a></td><td class="${job.status}">${job.status}</td><td>${job.kind}</td>
<td>${job.repo}</td><td>${job.crashTitle ?? ""}</td><td>${answer}</td><td>${job.confidence !== null ? job.confidence.toFixed(2) : ""}</td><td>${when(job.createdAt)}</td></tr>`;
}

function commitLine(row: CommitRow): Page {
  const build = row.build;
  const built = !build ? "building" : build.ok ? html`<span class="hash">${(build.signature ?? "").slice(0, 12)}</span>${build.cached ? " (cached)" : ""}` : html`<span class="failed">failed</span>`;
  return html`<tr><td class="hash">${row.commit.slice(0, 12)}${row.remedies.length > 0 ? ` + ${row.remedies.join(", ")}` : ""}</td><td>${row.label ?? ""}</td><td>${built}</td>
<td>${row.runs.map((r, i) => html`${i > 0 ? html`<br>` : ""}${r.count}× ${r.outcome}`)}</td><td class="${row.verdict === "bad" ? "failed" : row.verdict === "good" ? "finished" : ""}">${row.verdict ?? ""}</td>
<td>${build ? goDuration(build.durationMs) : ""}</td><td>${row.testMs > 0 ? goDuration(row.testMs) : ""}</td></tr>`;
}

function resultBlock(result: BisectResult): Page {
  const flags = [result.noop ? "no-op" : "", result.merge ? "merge" : "", result.release ? "release" : ""].filter((f) => f !== "");
  const culprit = result.culprit;
  return html`<h2>Result: ${result.outcome}</h2>
${culprit ? html`<p>culprit <span class="hash">${culprit.hash}</span> ${culprit.title}<br>by ${culprit.author.name} &lt;${culprit.author.email}&gt;, ${culprit.date}</p>` : ""}
<p>confidence ${result.confidence.toFixed(3)}${flags.length > 0 ? `, flags: ${flags.join(", ")}` : ""}; ${result.revisionsTested} revisions tested, ${result.builds} builds, ${result.runs} runs</p>
${result.candidates.length > 0 ? html`<p>${result.candidates.length} candidates</p>` : ""}
${result.report ? html`<p>crash: ${result.report.title}</p>` : ""}
${result.recipients.to.length > 0 ? html`<p>to: ${result.recipients.to.join(", ")}${result.recipients.cc.length > 0 ? `; cc: ${result.recipients.cc.join(", ")}` : ""}</p>` : ""}`;
}

export function registerPages(app: Hono<Env>, deps: { store: Store; tokens: readonly TokenEntry[] }): void {
  const { store, tokens } = deps;

  app.use("/jobs*", async (c, next) => {
    c.header("content-security-policy", POLICY);
    const access = accessOf(c, tokens, "read");
    if (access.kind === "denied") return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`);
    await next();
  });

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
    const next = typeof form["next"] === "string" && /^\/jobs(\/[0-9a-f-]{36})?$/.test(form["next"]) ? form["next"] : "/jobs";
    if (authorize(tokens, `Bearer ${token}`, "read").kind === "denied") return c.redirect(`/login?next=${encodeURIComponent(next)}`);
    setCookie(c, TOKEN_COOKIE, token, { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.redirect(next);
  });

  app.get("/assets/follow.js", (c) => c.body(FOLLOW_SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8" }));

  app.get("/jobs", async (c) => {
    const jobs = await store.jobs({ limit: 200 });
    return c.html(
      layout(
        "culprit: jobs",
        html`<h1>Jobs</h1><table><tr><th>job</th><th>status</th><th>kind</th><th>repo</th><th>crash</th><th>answer</th><th>confidence</th><th>submitted</th></tr>
${jobs.map(jobRow)}</table>`,
      ),
    );
  });

  app.get("/jobs/:id", async (c) => {
    const id = c.req.param("id");
    const job = /^[0-9a-f-]{36}$/.test(id) ? await store.job(id) : undefined;
    if (!job) return c.html(layout("culprit: no such job", html`<p>no job ${id}</p>`), 404);
    const events = await store.events(job.id);
    const view = new LogView();
    const lines = events.flatMap((e) => view.lines(e.event));
    const commits = commitRows(events.map((e) => e.event));
    const corrections = await store.corrections(job.id);
    const verdict = corrected(job.culprit, corrections);
    const result = job.result ? (JSON.parse(job.result) as BisectResult) : undefined;
    const live = job.status === "queued" || job.status === "running";
    return c.html(
      layout(
        `culprit: ${job.crashTitle ?? job.id}`,
        html`<p><a href="/jobs">jobs</a></p><h1>${job.crashTitle ?? "(crash not known yet)"}</h1>
<p>job <span class="hash">${job.id}</span>: <span class="${job.status}">${job.status}</span>, ${job.kind} bisection of ${job.repo} (${job.strategy}), submitted by ${job.submittedBy ?? "import"} at ${when(job.createdAt)}${job.retryOf ? html`, retry of <a href="/jobs/${job.retryOf}">${job.retryOf.slice(0, 8)}</a>` : ""}</p>
${job.error ? html`<p class="failed">${job.error}</p>` : ""}
${result ? resultBlock(result) : ""}
${corrections.length > 0 ? html`<h2>Corrections</h2><p>believed: ${verdict.source === "invalid" ? "result marked invalid" : html`culprit <span class="hash">${verdict.culprit ?? "none"}</span> (${verdict.source})`}</p><ul>${corrections.map((k) => html`<li>${when(k.at)} ${k.by}: ${k.kind === "invalid" ? "marked invalid" : html`culprit <span class="hash">${k.culprit}</span>`} — ${k.reason}</li>`)}</ul>` : ""}
${commits.length > 0 ? html`<h2>Commits</h2><table><tr><th>commit</th><th>release or title</th><th>build signature</th><th>runs</th><th>verdict</th><th>build</th><th>test</th></tr>${commits.map(commitLine)}</table>` : ""}
<h2>Log</h2><pre id="log" data-job="${job.id}" data-after="${events.at(-1)?.event.seq ?? -1}">${lines.map((l) => `${l}\n`).join("")}</pre>
${live ? html`<script src="/assets/follow.js"></script>` : ""}`,
      ),
    );
  });
}
