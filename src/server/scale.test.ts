// The server under load: twenty jobs submitted at once share two build slots and four test
// machines, each ends with the answer the CLI gives on the same history, and every event is
// stored once, on SQLite and on PostgreSQL; a cancelled job gives its slot back at once and its processes end.

import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, watch } from "node:fs";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { processesIn, repeatsIn } from "../bisect/chaoskit.js";
import { loadEvents, type RecordedEvent } from "../bisect/events.js";
import { prepareJob } from "../bisect/job.js";
import { runBisection } from "../bisect/orchestrator.js";
import type { BisectResult } from "../bisect/result.js";
import { simpleHistory } from "../bisect/testkit.js";
import { generateHistory, type GeneratedHistory } from "../demo/history.js";
import { mapPool } from "../run/pool.js";
import { sseMessages } from "./sse.js";
import { auth, harness, harnessOn, jobFields, type Harness } from "./testkit.js";

/**
 * A script that does `command` while it records, in `dir`, how many copies of it run at once:
 * each copy adds an entry, writes how many it sees, and removes its entry when done.
 */
async function counting(file: string, dir: string, command: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const script = [
    "#!/bin/sh",
    `mkdir "${dir}/$$"`,
    `ls "${dir}" | grep -c . >> "${dir}.seen"`,
    `${command}`,
    "status=$?",
    `rmdir "${dir}/$$"`,
    "exit $status",
  ];
  await writeFile(file, script.join("\n") + "\n");
  await chmod(file, 0o755);
  return file;
}

/** The most copies a counting script saw at once. */
async function mostAtOnce(dir: string): Promise<number> {
  const seen = (await readFile(`${dir}.seen`, "utf8")).split("\n").filter(Boolean).map(Number);
  return Math.max(...seen);
}

/** What must be equal between the server's answer and the CLI's on the same history. */
function answer(result: BisectResult): Record<string, unknown> {
  return {
    outcome: result.outcome,
    culprit: result.culprit?.hash,
    confidence: result.confidence,
    revisionsTested: result.revisionsTested,
    // A build another job made is found in the server's shared cache: counted as cached there.
    builds: result.builds + result.cachedBuilds,
    runs: result.runs,
    crash: result.report?.title,
  };
}

/**
 * The CLI's answers on the twenty histories, computed once: the histories are generated alike for
 * each backend (same hashes), so the second backend's run is checked against the same answers.
 */
let cliReference: { heads: string[]; answers: Promise<Record<string, unknown>[]> } | undefined;

function cliAnswers(histories: GeneratedHistory[], fields: Record<string, unknown>[], server: Harness): Promise<Record<string, unknown>[]> {
  const heads = histories.map((history) => history.head);
  if (cliReference) {
    assert.deepEqual(heads, cliReference.heads, "the same histories as those the CLI answered on");
    return cliReference.answers;
  }
  const answers = mapPool(histories, 2, async (history) => {
    const i = histories.indexOf(history);
    const workDir = join(server.dir, "cli", String(i));
    // The server's commands, wrappers and all: a crash seen through the wrapping shell has
    // another title. One build cache for all, as the server's jobs share theirs.
    const prepared = await prepareJob({ ...fields[i], workDir, cacheDir: join(server.dir, "cli-cache") }, server.root, workDir);
    return answer(await runBisection(prepared.spec, prepared.deps, { signal: new AbortController().signal }));
  });
  cliReference = { heads, answers };
  return answers;
}

for (const backend of ["sqlite", "postgres"] as const) {
describe(`culprit serve with twenty jobs at once, on ${backend}`, () => {
  let h: Harness | undefined;
  after(async () => h?.cleanup());

  it("shares 2 builds and 4 runs among them; each ends with the CLI's answer; every event stored once", { timeout: 120_000 }, async () => {
    h = await harnessOn(backend, { maxJobs: 20, builds: 2, runs: 4 });
    const server = h;
    const build = await counting(join(server.dir, "counted-make"), join(server.dir, "building"), "make -s demo");
    const reproduce = await counting(join(server.dir, "counted-demo"), join(server.dir, "running"), './demo "$@"');
    // Small histories, each with its culprit elsewhere: different answers, different trees.
    const histories: GeneratedHistory[] = await Promise.all(
      Array.from({ length: 20 }, (_, i) => generateHistory(join(server.root, `project-${i}`), simpleHistory(6 + (i % 5), { culprit: 2 + (i % 4) }))),
    );
    const fields = histories.map((history) =>
      jobFields(history, { build: { command: [build], artifacts: ["demo"], timeout: "2m" }, reproducer: { command: [reproduce], timeout: "20s" } }),
    );
    const submitted = await Promise.all(
      fields.map(async (job) => {
        const response = await server.app.request("/api/jobs", { method: "POST", headers: { "content-type": "application/json", ...auth("submit") }, body: JSON.stringify(job) });
        assert.equal(response.status, 201);
        return ((await response.json()) as { id: string }).id;
      }),
    );
    // Every job's live stream, followed from its start until it ends.
    const streams = await Promise.all(submitted.map(async (id) => sseMessages(await (await server.app.request(`/api/jobs/${id}/events`, { headers: auth("read") })).text())));

    assert.equal(await mostAtOnce(join(server.dir, "building")), 2, "two builds at once, never more");
    const runsAtOnce = await mostAtOnce(join(server.dir, "running"));
    assert.ok(runsAtOnce <= 4, `runs at once: ${runsAtOnce}, at most 4`);
    assert.deepEqual([server.jobs.limits.builds.inUse, server.jobs.limits.machines.inUse], [0, 0], "every slot given back");

    const cli = await cliAnswers(histories, fields, server);
    for (const [i, id] of submitted.entries()) {
      const row = await server.data.store.job(id);
      assert.equal(row?.status, "finished", `job ${i}: ${row?.error ?? ""}`);
      assert.deepEqual(JSON.parse(streams[i]?.at(-1)?.data ?? ""), { status: "finished" });
      const stored = (await server.data.store.events(id)).map((s) => s.event);
      assert.deepEqual(
        stored.map((e) => e.seq),
        stored.map((_, n) => n),
        `job ${i}: sequence numbers contiguous from 0`,
      );
      const text = await readFile(join(row?.workDir as string, "events.jsonl"), "utf8");
      assert.deepEqual(stored, loadEvents(text).events, `job ${i}: the store holds the work dir's events, none lost or added`);
      assert.deepEqual(
        streams[i]?.filter((m) => m.event === "event").map((m) => (JSON.parse(m.data) as { event: { seq: number } }).event.seq),
        stored.map((e) => e.seq),
        `job ${i}: the live stream carried each event once`,
      );
      assert.deepEqual(repeatsIn(text), { repeatedBuilds: [], reusedRunIndices: [] }, `job ${i}: each build and each run once`);
      const result = JSON.parse(row?.result as string) as BisectResult;
      assert.deepEqual(answer(result), cli[i], `job ${i}: the CLI's answer`);
      assert.equal(result.culprit?.hash, histories[i]?.culprit);
    }
    // A build stopped by a kill (the CLI's builds ahead that were not needed) leaves its marker: only live ones count.
    const alive = (await readdir(join(server.dir, "building"))).filter((pid) => {
      try {
        process.kill(Number(pid), 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(alive, [], "no build left running");
  });
});
}

/** Resolves once `file` exists (watched, not polled). */
function exists(file: string): Promise<void> {
  const dir = join(file, "..");
  return new Promise((resolve) => {
    const watcher = watch(dir, () => {
      if (!existsSync(file)) return;
      watcher.close();
      resolve();
    });
    if (existsSync(file)) {
      watcher.close();
      resolve();
    }
  });
}

/** Resolves with the first event of a job that satisfies `want`. */
function firstEvent(h: Harness, id: string, want: (e: RecordedEvent) => boolean): Promise<RecordedEvent> {
  return new Promise((resolve) => {
    const stop = h.jobs.subscribe(id, (item) => {
      if (item.kind === "event" && want(item.stored.event)) {
        stop();
        resolve(item.stored.event);
      }
    });
  });
}

describe("a cancelled job's slots", () => {
  let h: Harness | undefined;
  after(async () => h?.cleanup());

  it("go to the job waiting for them at once, and its build process ends", { timeout: 60_000 }, async () => {
    h = await harness({ maxJobs: 2, builds: 1 });
    const server = h;
    const pidFile = join(server.dir, "stuck", "pid");
    await mkdir(join(pidFile, ".."));
    // A build that never ends by itself: only a cancel stops it.
    const stuck = join(server.dir, "stuck-make");
    await writeFile(stuck, `#!/bin/sh\necho $$ > "${pidFile}.new"\nmv "${pidFile}.new" "${pidFile}"\nexec sleep 600\n`);
    await chmod(stuck, 0o755);
    const first = await server.jobs.submit(jobFields(await generateHistory(join(server.root, "stuck"), simpleHistory(8, { culprit: 4 })), { build: { command: [stuck], artifacts: ["demo"], timeout: "20m" } }), "tester");
    await exists(pidFile);
    const pid = Number(await readFile(pidFile, "utf8"));
    const history = await generateHistory(join(server.root, "waiting"), simpleHistory(8, { culprit: 5 }));
    const second = await server.jobs.submit(jobFields(history), "tester");
    await firstEvent(server, second.id, (e) => e.type === "build-started");
    const cancelledAt = Date.now();
    assert.equal((await server.jobs.cancel(first.id)).status, "cancelled");
    assert.throws(() => process.kill(pid, 0), { code: "ESRCH" }, "the cancelled job's build has ended");
    assert.deepEqual(processesIn((await server.data.store.job(first.id))?.workDir as string), []);
    const built = (await firstEvent(server, second.id, (e) => e.type === "build-finished")) as Extract<RecordedEvent, { type: "build-finished" }>;
    assert.ok(built.at >= cancelledAt, "the waiting job built only once the slot was given back");
    const stream = sseMessages(await (await server.app.request(`/api/jobs/${second.id}/events`, { headers: auth("read") })).text());
    assert.deepEqual(JSON.parse(stream.at(-1)?.data ?? ""), { status: "finished" });
    assert.equal((await server.data.store.job(second.id))?.culprit, history.culprit);
    assert.deepEqual([server.jobs.limits.builds.inUse, server.jobs.limits.builds.waiting], [0, 0]);
  });
});
