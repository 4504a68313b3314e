// The pages: sign-in by cookie (for reading only), the jobs list (with a running job's steps
// left) and a job's page, with every value escaped.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { EVENT_SCHEMA_VERSION, type BisectEvent, type RecordedEvent } from "../bisect/events.js";
import type { BisectResult } from "../bisect/result.js";
import { join } from "node:path";
import { simpleHistory } from "../bisect/testkit.js";
import { generateHistory } from "../demo/history.js";
import { stepsLeftOf } from "./remaining.js";
import { TOKENS, auth, harness, jobFields, type Harness } from "./testkit.js";

const FINISHED = "00000000-0000-4000-8000-00000000000f";
const RUNNING = "00000000-0000-4000-8000-00000000000e";
const FARMED = "00000000-0000-4000-8000-00000000000d";
const HOSTILE = "KASAN: use-after-free in <script>alert(1)</script>";
const CULPRIT = "c0ffee".repeat(6) + "abcd";

const result = {
  kind: "cause",
  outcome: "culprit",
  strategy: "culprit",
  start: "f".repeat(40),
  culprit: { hash: CULPRIT, title: "net: free <b>twice</b>", author: { name: "Ann", email: "ann@example.org" }, date: "2026-01-01", message: "", diffstat: "", parents: [], releaseTags: [] },
  candidates: [],
  noop: false,
  merge: false,
  release: false,
  confidence: 0.97,
  revisionsTested: 7,
  builds: 7,
  cachedBuilds: 0,
  runs: 70,
  time: { totalMs: 1, buildMs: 1, testMs: 1 },
  recipients: { to: ["ann@example.org"], cc: [] },
  report: { title: HOSTILE, type: "KASAN", text: "" },
  workDir: "/w",
} satisfies BisectResult;

function stamped(job: string, events: BisectEvent[]): { event: RecordedEvent; log: null }[] {
  return events.map((e, seq) => ({ event: { ...e, v: EVENT_SCHEMA_VERSION, job, seq }, log: null }));
}

describe("pages", () => {
  let h: Harness;
  const reader = TOKENS.find((t) => t.role === "read")?.token as string;
  const cookie = { cookie: `culprit_token=${reader}` };
  before(async () => {
    h = await harness();
    const row = { kind: "cause", repo: "/repos/a", strategy: "culprit", job: "{}", workDir: "/w", submittedBy: "ci" };
    await h.data.store.insertJob({ ...row, id: FINISHED, status: "finished", crashTitle: HOSTILE, outcome: "culprit", culprit: CULPRIT, confidence: 0.97, result: JSON.stringify(result) });
    await h.data.store.appendEvents(
      FINISHED,
      stamped(FINISHED, [
        { type: "started", at: 1, kind: "cause", start: "f".repeat(40), strategy: "culprit", resumed: false },
        { type: "build-started", at: 1, request: "r1", commit: CULPRIT, remedies: [], toolchain: "gcc" },
        { type: "build-finished", at: 1, request: "r1", commit: CULPRIT, remedies: [], build: { kind: "ok", signature: "5".repeat(64) }, cached: false, durationMs: 1500, cacheKey: "a".repeat(64), signatureLabel: "build" },
        ...[0, 1].map((index): BisectEvent => ({ type: "run-finished", at: 1, request: "r1", commit: CULPRIT, remedies: [], index, outcome: { kind: "crash", crash: { title: HOSTILE, alt: [], type: "", frame: "" } }, durationMs: 1, log: "b".repeat(64) })),
        { type: "tests-finished", at: 1, request: "r1", commit: CULPRIT, remedies: [], runs: 2, durationMs: 2000 },
        { type: "finished", at: 2, result },
      ]),
    );
    await h.data.store.addCorrection({ jobId: FINISHED, by: "admin", kind: "invalid", culprit: null, reason: "reproducer <i>flaky</i>" });
    // Inserted after the harness started its jobs: nothing here runs it.
    await h.data.store.insertJob({ ...row, id: RUNNING, status: "running" });
    // Built by one worker, run by two (serve --queue).
    await h.data.store.insertJob({ ...row, id: FARMED, status: "running" });
    await h.data.store.appendEvents(
      FARMED,
      stamped(FARMED, [
        { type: "build-started", at: 1, request: "r1", commit: CULPRIT, remedies: [], toolchain: "gcc", worker: "rack-1:40" },
        { type: "build-finished", at: 1, request: "r1", commit: CULPRIT, remedies: [], build: { kind: "ok", signature: "5".repeat(64) }, cached: false, durationMs: 1500, cacheKey: "a".repeat(64), signatureLabel: "build", worker: "rack-1:40" },
        ...[0, 1, 2].map((index): BisectEvent => ({ type: "run-finished", at: 1, request: "r1", commit: CULPRIT, remedies: [], index, outcome: { kind: "ok" }, durationMs: 1, log: "b".repeat(64), worker: index === 0 ? "rack-1:40" : "rack-2:41" })),
      ]),
    );
    const now = Date.now();
    const announced = { capabilities: '["generic","qemu"]', concurrency: '{"builds":2,"runs":4}', heartbeatMs: 15_000 };
    await h.data.store.announceWorker({ ...announced, name: "rack-1:40" }, now - 60_000);
    await h.data.store.workerHeartbeat("rack-1:40", { doing: JSON.stringify([{ request: "r2", job: FARMED, commit: CULPRIT, remedies: [], phase: "run" }]), stopped: 0 }, now - 5_000);
    await h.data.store.announceWorker({ ...announced, name: "rack-2:41" }, now - 600_000);
    await h.data.store.workerHeartbeat("rack-2:41", { doing: JSON.stringify([{ request: "r3", job: FARMED, commit: CULPRIT, remedies: [], phase: "build" }]), stopped: 0 }, now - 500_000);
    await h.data.store.announceWorker({ ...announced, name: "rack-3:42" }, now - 60_000);
    await h.data.store.workerHeartbeat("rack-3:42", { doing: "[]", stopped: 1 }, now - 50_000);
  });
  after(async () => h.cleanup());

  const get = (path: string, headers: Record<string, string> = cookie): Promise<Response> => Promise.resolve(h.app.request(path, { headers }));

  it("sends a visitor without a token to sign in, and back where they were going", async () => {
    const response = await get(`/jobs/${FINISHED}`, {});
    assert.equal(response.status, 302);
    assert.equal(response.headers.get("location"), `/login?next=${encodeURIComponent(`/jobs/${FINISHED}`)}`);
  });

  it("signs in with a token into an HttpOnly, SameSite=Strict cookie; a wrong token gets none", async () => {
    const form = (token: string, next: string): Promise<Response> =>
      Promise.resolve(h.app.request("/login", { method: "POST", body: new URLSearchParams({ token, next }) }));
    const wrong = await form("not-a-token", "/jobs");
    assert.equal(wrong.status, 302);
    assert.equal(wrong.headers.get("set-cookie"), null);
    const right = await form(reader, `/jobs/${FINISHED}`);
    assert.equal(right.headers.get("location"), `/jobs/${FINISHED}`);
    assert.match(right.headers.get("set-cookie") ?? "", new RegExp(`^culprit_token=${reader}; Path=/; HttpOnly; SameSite=Strict$`));
    const elsewhere = await form(reader, "https://evil.example/");
    assert.equal(elsewhere.headers.get("location"), "/jobs", "never sent off the site");
    const crash = `/crashes?title=${encodeURIComponent(HOSTILE)}`;
    assert.equal((await get(crash, {})).headers.get("location"), `/login?next=${encodeURIComponent(crash)}`);
    assert.equal((await form(reader, crash)).headers.get("location"), crash, "back to the crash's page");
    assert.equal((await form(reader, "/crashes?title=x//evil.example")).headers.get("location"), "/jobs");
  });

  it("a cookie reads, but never changes anything", async () => {
    assert.equal((await get(`/api/jobs/${FINISHED}`)).status, 200);
    const post = await h.app.request(`/api/jobs/${FINISHED}/invalid`, { method: "POST", headers: cookie, body: JSON.stringify({ reason: "x" }) });
    assert.equal(post.status, 401);
  });

  it("lists jobs with every value escaped, under a policy that allows only its own script", async () => {
    const response = await get("/jobs");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-security-policy") ?? "", /script-src 'self'/);
    const page = await response.text();
    assert.ok(page.includes(`href="/jobs/${FINISHED}"`));
    assert.ok(page.includes("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(!page.includes("<script>alert"));
    assert.ok(page.includes(CULPRIT.slice(0, 12)));
  });

  it("shows a finished job: result, corrections, each commit tested, log; not followed live", async () => {
    const page = await (await get(`/jobs/${FINISHED}`)).text();
    assert.ok(page.includes(`<td class="hash">${CULPRIT.slice(0, 12)}</td>`));
    assert.ok(page.includes("2× crashed: KASAN: use-after-free in &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.ok(page.includes("<td>1.5s</td><td>2s</td>"));
    assert.ok(page.includes(CULPRIT));
    assert.ok(page.includes("net: free &lt;b&gt;twice&lt;/b&gt;"));
    assert.ok(page.includes("confidence 0.970"));
    assert.ok(page.includes("result marked invalid"));
    assert.ok(page.includes("reproducer &lt;i&gt;flaky&lt;/i&gt;"));
    assert.ok(page.includes(`bisecting cause commit starting from ${"f".repeat(40)}`));
    assert.ok(page.includes('data-live="false"'));
    assert.ok(page.includes('<script src="/assets/uplot.js"></script><script src="/assets/job.js"></script>'));
    assert.ok(!/<script>|<script [^s]|on\w+=/.test(page), "no inline script or handler");
    assert.ok(page.includes('<span class="flag">invalid</span>'), "the invalid mark is a flag");
    assert.ok(page.includes(`href="/crashes?title=${encodeURIComponent(HOSTILE)}"`), "linked to the crash's page");
    assert.match(page, /<li data-stage="done" class="done">done<\/li>/);
  });

  it("follows a running job's log live with its one script, from the last event shown", async () => {
    const page = await (await get(`/jobs/${RUNNING}`)).text();
    assert.ok(page.includes(`data-job="${RUNNING}" data-live="true" data-after="-1"`));
    const script = await get("/assets/job.js", {});
    assert.match(script.headers.get("content-type") ?? "", /javascript/);
    assert.match(await script.text(), /new EventSource\("\/api\/jobs\/" \+ job \+ "\/events\?after=" \+ log\.dataset\.after\)/);
    const chart = await get("/assets/uplot.js", {});
    assert.match(chart.headers.get("content-type") ?? "", /javascript/);
    assert.match(await chart.text(), /uPlot/, "uPlot, served from node_modules");
    assert.match((await get("/assets/uplot.css", {})).headers.get("content-type") ?? "", /text\/css/);
  });

  it("serves a job's commits table alone, for its page to swap in", async () => {
    const table = await (await get(`/jobs/${FINISHED}/commits`)).text();
    assert.ok(table.startsWith("<table>"));
    assert.ok(table.includes(`<td class="hash">${CULPRIT.slice(0, 12)}</td>`));
    assert.ok(table.includes("2× crashed: KASAN: use-after-free in &lt;script&gt;alert(1)&lt;/script&gt;"));
    assert.equal(await (await get(`/jobs/${RUNNING}/commits`)).text(), "<p>none tested yet</p>");
    assert.equal((await get(`/jobs/${FINISHED}/commits`, {})).status, 302, "signed in only");
  });

  it("serves the chart's data and the stages as JSON, to a reader only", async () => {
    assert.equal((await get(`/api/jobs/${FINISHED}/dashboard`, {})).status, 401);
    const view = (await (await get(`/api/jobs/${FINISHED}/dashboard`)).json()) as { series: unknown; stages: { name: string; state: string }[] };
    // Its repository is not there to draw the range from: stages only.
    assert.equal(view.series, null);
    assert.deepEqual(view.stages.map((s) => s.name), ["reproduce", "find good", "bisect", "verify", "done"]);
    assert.equal(view.stages.at(-1)?.state, "done");
    assert.equal((await get(`/api/jobs/00000000-0000-4000-8000-000000000000/dashboard`)).status, 404);
  });

  it("lists jobs with their progress, culprit, confidence and flags", async () => {
    const page = await (await get("/jobs")).text();
    assert.ok(page.includes("<th>progress</th>"));
    assert.ok(page.includes("7 tested, 70 runs, 0s"));
    assert.ok(page.includes("<td>0.97</td>"));
    const finished = page.split("<tr>").find((row) => row.includes(`href="/jobs/${FINISHED}"`)) ?? "";
    assert.ok(finished.includes('<span class="flag">invalid</span>'), "an admin's invalid mark is a flag in the list too");
    const running = page.split("<tr>").find((row) => row.includes(`href="/jobs/${RUNNING}"`)) ?? "";
    assert.ok(running !== "" && !running.includes("invalid"), "only on the job marked");
  });

  it("shows every bisection of one crash title with its corrections, exact title only", async () => {
    const page = await (await get(`/crashes?title=${encodeURIComponent(HOSTILE)}`)).text();
    assert.ok(page.includes("bisections of this crash (1)"));
    assert.ok(page.includes(`href="/jobs/${FINISHED}"`));
    assert.ok(page.includes("reproducer &lt;i&gt;flaky&lt;/i&gt;"));
    assert.ok(page.includes('<span class="flag">invalid</span>'));
    const byPath = await (await get(`/crashes/${encodeURIComponent(HOSTILE)}`)).text();
    assert.ok(byPath.includes("bisections of this crash (1)"));
    const part = await (await get(`/crashes?title=${encodeURIComponent("KASAN")}`)).text();
    assert.ok(part.includes("bisections of this crash (0)"), "a part of a title is another title");
    assert.equal((await get("/crashes")).status, 400);
    assert.equal((await get(`/crashes?title=x`, {})).status, 302, "signed in only");
  });

  it("shows who built and ran each commit when workers did, and no such column when the server did", async () => {
    const farmed = await (await get(`/jobs/${FARMED}`)).text();
    assert.ok(farmed.includes("<th>workers</th>"));
    assert.ok(farmed.includes("<td>build: rack-1:40<br>2× run: rack-2:41<br>1× run: rack-1:40</td>"));
    assert.ok(!(await (await get(`/jobs/${FINISHED}`)).text()).includes("<th>workers</th>"));
  });

  it("lists the workers: capabilities, concurrency, what each does (linked to its job), last seen, live before stopped before gone", async () => {
    assert.equal((await get("/workers", {})).status, 302, "signed in only");
    const page = await (await get("/workers")).text();
    assert.ok(page.includes('<a href="/workers">workers</a>'), "in the nav");
    const rows = [...page.matchAll(/<tr data-worker="([^"]+)">(.*?)<\/tr>/gs)].map((m) => [m[1], m[2]] as [string, string]);
    assert.deepEqual(rows.map(([name]) => name), ["rack-1:40", "rack-3:42", "rack-2:41"]);
    const [live, stopped, gone] = rows.map(([, cells]) => cells);
    assert.match(live ?? "", /<td class="finished">live<\/td><td>generic, qemu<\/td><td>2 at once, 4 runs each<\/td>/);
    assert.match(live ?? "", new RegExp(`running <span class="hash">${CULPRIT.slice(0, 12)}</span> for <a class="hash" href="/jobs/${FARMED}">`));
    assert.match(live ?? "", /<td>\d+s ago<\/td><td>1m\d+s ago<\/td>/);
    assert.match(stopped ?? "", /<td class="">stopped<\/td>.*<td>idle<\/td>/);
    assert.match(gone ?? "", /<td class="failed">gone<\/td>.*<td>idle<\/td>/, "a gone worker's last heartbeat is not what it does");
    const api = (await (await get("/api/workers")).json()) as { workers: { name: string; state: string; lastSeen: number }[] };
    assert.deepEqual(api.workers.map((w) => [w.name, w.state]), [["rack-1:40", "live"], ["rack-2:41", "gone"], ["rack-3:42", "stopped"]]);
    assert.equal((await get("/api/workers", {})).status, 401);
  });

  it("says a job is not there", async () => {
    assert.equal((await get("/jobs/00000000-0000-4000-8000-000000000000")).status, 404);
  });
});

describe("the jobs list, for a job running culprit's strategy", () => {
  let h: Harness | undefined;
  after(async () => h?.cleanup());

  it("shows its steps left, read off its posterior, and an ETA", async () => {
    h = await harness({ maxJobs: 1 });
    const server = h;
    const history = await generateHistory(join(server.root, "project"), simpleHistory(40, { culprit: 26 }));
    const row = await server.jobs.submit(jobFields(history), "tester");
    // The start and the good end tested: the target is known, the bisection ahead.
    await new Promise<void>((resolve) => {
      let tested = 0;
      const stop = server.jobs.subscribe(row.id, (item) => {
        if (item.kind === "event" && item.stored.event.type === "tests-finished" && ++tested === 2) {
          stop();
          resolve();
        }
      });
    });
    // Stopped, it stays running in the store: the list shows it as it was.
    await server.jobs.stop();
    const headers = { cookie: `culprit_token=${TOKENS.find((t) => t.role === "read")?.token as string}` };
    const page = await (await server.app.request("/jobs", { headers })).text();
    const listed = page.split("<tr>").find((r) => r.includes(`href="/jobs/${row.id}"`)) ?? "";
    assert.match(listed, /<td class="running">running<\/td>/);
    const steps = Number(/~(\d+) steps left/.exec(listed)?.[1]);
    assert.match(listed, /ETA ~\d/);
    const view = (await (await server.app.request(`/api/jobs/${row.id}/dashboard`, { headers: auth("read") })).json()) as { series: { mass: number[]; everywhere: number; nowhere: number } };
    assert.equal(steps, stepsLeftOf([...view.series.mass, view.series.everywhere, view.series.nowhere]));
    // 40 commits, the leader far from 95%: several halvings to go.
    assert.ok(steps >= 3 && steps <= 6, `steps left: ${steps}`);
  });
});
