// The dashboard in a real browser: Debian's chromium driven by playwright-core, against a real
// `culprit serve` on loopback. A job submitted through the API is watched on its page while it
// runs (the log grows, the posterior chart is redrawn), its culprit seen when it ends, then marked
// invalid by an admin; screenshots are saved and what they show is checked on the page.
// CULPRIT_SCREENSHOTS=DIR keeps them there (docs/img/job-page.png comes from here).

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { generateHistory, type GeneratedHistory } from "../demo/history.js";
import { simpleHistory } from "../bisect/testkit.js";
import { postgresBackend, type Backend } from "../store/backends.js";
import { adminToken, startServe, type ServeProcess } from "./servekit.js";
import { jobFields } from "./testkit.js";

/** Debian's chromium (scripts/setup installs it); never a browser playwright downloads. */
const CHROMIUM = "/usr/bin/chromium";

/** Width and height of a PNG, read from its IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  assert.equal(bytes.subarray(1, 4).toString("latin1"), "PNG", "a screenshot is a PNG");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

// The pages read the store: the same walk-through on each backend.
for (const backendName of ["sqlite", "postgres"] as const) {
describe(`the dashboard in chromium, on ${backendName}`, () => {
  let backend: Backend | undefined;
  let dir: string;
  let server: ServeProcess | undefined;
  let browser: Browser | undefined;
  let history: GeneratedHistory;
  let token: string;
  let shots: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "culprit-browser-"));
    // The docs' screenshots are SQLite's; PostgreSQL's go beside them.
    shots = join(process.env["CULPRIT_SCREENSHOTS"] ?? join(dir, "screenshots"), backendName === "sqlite" ? "" : backendName);
    await mkdir(shots, { recursive: true });
    const root = join(dir, "repos");
    await mkdir(root);
    history = await generateHistory(join(root, "project"), simpleHistory(48, { culprit: 31 }));
    // Half a second per run: the job takes several seconds, long enough to watch it change.
    const slow = join(dir, "slow-demo");
    await writeFile(slow, "#!/bin/sh\nsleep 0.5\nexec ./demo\n");
    await chmod(slow, 0o755);
    backend = backendName === "postgres" ? await postgresBackend() : undefined;
    server = await startServe(join(dir, "data"), root, backend ? await backend.fresh() : undefined);
    token = await adminToken(join(dir, "data"));
  });

  after(async () => {
    await browser?.close();
    if (server) {
      process.kill(server.pid, "SIGTERM");
      await server.exited;
    }
    await backend?.teardown();
    await rm(dir, { recursive: true, force: true });
  });

  const api = async (path: string, body?: unknown): Promise<Record<string, unknown>> => {
    const url = (server as ServeProcess).url;
    const response = await fetch(`${url}${path}`, {
      method: body === undefined ? "GET" : "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    assert.ok(response.ok, `${path}: ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };

  const shoot = async (page: Page, name: string, expected: readonly string[]): Promise<void> => {
    const text = await page.locator("body").innerText();
    for (const want of expected) assert.ok(text.includes(want), `${name}: the page shows ${JSON.stringify(want)}`);
    const file = join(shots, `${name}.png`);
    await page.screenshot({ path: file, fullPage: name !== "job-page" });
    const size = pngSize(await readFile(file));
    assert.ok(size.width >= 1000 && size.height >= 600, `${name}: ${size.width}×${size.height}`);
  };

  it("watches a job run (log, chart and commits change), sees its culprit, and an admin's invalid mark", async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup installs Debian's chromium package`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
    const page = await browser.newPage({ viewport: { width: 1200, height: 1100 } });
    // A script the policy refused, or one that failed, shows here.
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(err.message));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(message.text());
    });

    const job = await api("/api/jobs", jobFields(history, { reproducer: { command: [join(dir, "slow-demo")], timeout: "20s" } }));
    const id = job["id"] as string;

    await page.goto(`${(server as ServeProcess).url}/login?next=/jobs/${id}`);
    await page.fill('input[name="token"]', token);
    await Promise.all([page.waitForURL(`**/jobs/${id}`), page.click("button")]);

    // Live: the log grows and the chart is redrawn with more runs, on the same page, while running.
    await page.waitForFunction(() => (document.getElementById("log")?.textContent ?? "").includes("bisecting cause commit"));
    const logBefore = (await page.textContent("#log"))?.length ?? 0;
    const rowsBefore = await page.locator("#commits tr").count();
    await page.waitForSelector("#posterior canvas", { timeout: 20_000 });
    const runsBefore = Number(await page.getAttribute("#posterior", "data-runs"));
    const chartBefore = await page.locator("#posterior canvas").first().evaluate((canvas: HTMLCanvasElement) => canvas.toDataURL());
    await page.waitForFunction(
      (runs) => Number(document.getElementById("posterior")?.dataset["runs"]) >= runs + 4 && document.getElementById("status")?.textContent === "running",
      runsBefore,
      { timeout: 20_000 },
    );
    const logAfter = (await page.textContent("#log"))?.length ?? 0;
    assert.ok(logAfter > logBefore, `the log grew: ${logBefore} → ${logAfter} characters`);
    const rowsAfter = await page.locator("#commits tr").count();
    assert.ok(rowsAfter > rowsBefore, `the commits table grew: ${rowsBefore} → ${rowsAfter} rows`);
    const chartAfter = await page.locator("#posterior canvas").first().evaluate((canvas: HTMLCanvasElement) => canvas.toDataURL());
    assert.notEqual(chartAfter, chartBefore, "the chart was redrawn differently");
    assert.equal(await page.getAttribute("#stages li.current", "data-stage"), "bisect");
    await shoot(page, "job-running", ["running", "Posterior", "reproduce", "bisect"]);

    // The end: the page reloads by itself and shows the culprit.
    await page.waitForSelector("#status.finished", { timeout: 40_000 });
    const culprit = history.culprit as string;
    assert.match((await page.textContent("#culprit")) ?? "", new RegExp(`culprit ${culprit}`));
    assert.equal(await page.getAttribute("#stages li:last-child", "class"), "done");
    await page.waitForSelector("#posterior canvas");
    assert.equal(await page.getAttribute("#posterior", "data-leading"), String(history.main.indexOf(culprit)), "the chart's peak is the culprit");
    await shoot(page, "job-page", ["Result: culprit", culprit, "confidence", "console log"]);

    // An admin marks it invalid (API); the job page and the crash's page say so.
    await api(`/api/jobs/${id}/invalid`, { reason: "the reproducer tests the wrong thing" });
    await page.reload();
    assert.equal(await page.textContent("#believed"), "believed: result marked invalid");
    await shoot(page, "job-invalid", ["marked invalid", "the reproducer tests the wrong thing", "invalid"]);
    await Promise.all([page.waitForURL("**/crashes?title=*"), page.click("text=every bisection of this crash")]);
    await shoot(page, "crash-page", ["bisections of this crash (1)", id.slice(0, 8), culprit.slice(0, 12), "marked invalid"]);
    await page.goto(`${(server as ServeProcess).url}/jobs`);
    await shoot(page, "jobs", [id.slice(0, 8), "finished", culprit.slice(0, 12), "tested"]);
    assert.deepEqual(problems, [], "no script error and nothing the policy refused");
  });
});
}
