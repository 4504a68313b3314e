import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { generator } from "../sim/random.js";
import { SCHEMA1_LOG } from "./testkit.js";
import { EventLog, loadEvents, nextRunIndex, observationsOf, openRequests, upgradeSchema1, type BisectEvent } from "./events.js";

function withDir(body: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), "culprit-events-"));
  try {
    body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const KEY = "0".repeat(64);

const run = (commit: string, index: number, crashed: boolean): BisectEvent => ({
  type: "run-finished",
  request: `r-${commit}`,
  at: index,
  commit,
  remedies: [],
  index,
  outcome: crashed ? { kind: "crash", crash: { title: "KASAN: use-after-free", alt: [], type: "KASAN", frame: "f" } } : { kind: "ok" },
  durationMs: 1,
  log: KEY,
});

/** A plausible bisection's facts: builds, claimed indices and runs over a few commits. */
function facts(commits: number): BisectEvent[] {
  const events: BisectEvent[] = [{ type: "started", at: 0, kind: "cause", start: "c0", strategy: "culprit", resumed: false }];
  for (let c = 0; c < commits; c++) {
    const commit = `c${c}`;
    events.push({ type: "build-started", at: 0, request: `r${c}`, commit, remedies: [], toolchain: "gcc" });
    events.push({ type: "build-finished", at: 0, request: `r${c}`, commit, remedies: [], build: { kind: "ok", signature: `s${c}` }, cached: false, durationMs: 1, cacheKey: KEY, signatureLabel: "build" });
    events.push({ type: "tests-started", at: 0, request: `r${c}`, commit, remedies: [], indices: [0, 1, 2, 3] });
    for (let i = 0; i < 4; i++) events.push(run(commit, i, (c + i) % 3 === 0));
    events.push({ type: "tests-finished", at: 0, request: `r${c}`, commit, remedies: [], runs: 4, durationMs: 4 });
  }
  return events;
}

function writtenLog(dir: string, events: readonly BisectEvent[]): string {
  const file = join(dir, "events.jsonl");
  const log = new EventLog(file, "job-1");
  for (const e of events) log.record(e);
  return readFileSync(file, "utf8");
}

describe("event log", () => {
  it("stamps every event with the job, a sequence number and the schema version", () => {
    withDir((dir) => {
      const lines = writtenLog(dir, facts(1)).trim().split("\n").map((l) => JSON.parse(l) as { v: number; job: string; seq: number });
      assert.deepEqual(lines.map((l) => l.seq), lines.map((_, i) => i));
      assert.ok(lines.every((l) => l.v === 2 && l.job === "job-1"));
    });
  });

  it("ignores a second delivery of a run (same commit, remedies, index)", () => {
    withDir((dir) => {
      const log = new EventLog(join(dir, "events.jsonl"));
      assert.equal(log.record(run("c1", 0, true)), true);
      assert.equal(log.record(run("c1", 0, false)), false);
      assert.equal(log.record(run("c1", 1, false)), true);
      const reopened = new EventLog(join(dir, "events.jsonl"));
      assert.deepEqual(observationsOf(reopened.events)[0]?.runs.map((r) => r.kind), ["crash", "ok"]);
      assert.equal(reopened.job, log.job);
    });
  });

  it("cuts off a torn last line, so the next append is readable", () => {
    withDir((dir) => {
      const file = join(dir, "events.jsonl");
      const text = writtenLog(dir, facts(1));
      writeFileSync(file, text + text.split("\n")[3]?.slice(0, 25));
      const log = new EventLog(file);
      log.record(run("c9", 0, true));
      const reloaded = loadEvents(readFileSync(file, "utf8"));
      assert.equal(reloaded.dropped, 0);
      assert.equal(reloaded.events.at(-1)?.type, "run-finished");
      assert.equal(reloaded.events.length, facts(1).length + 1);
    });
  });

  it("rejects lines that are JSON but not events of this schema", () => {
    const good = { type: "interrupted", at: 1, v: 2, job: "j", seq: 0 };
    const lines = [
      good,
      { ...good, seq: 1, v: 1 },
      { ...good, seq: 2, type: "exploded" },
      { type: "run-finished", at: 1, v: 2, job: "j", seq: 3, request: "r", commit: "c", remedies: [], index: -1, outcome: { kind: "ok" }, durationMs: 1, log: KEY },
      { type: "run-finished", at: 1, v: 2, job: "j", seq: 4, request: "r", commit: "c", remedies: [], index: 0, outcome: { kind: "maybe" }, durationMs: 1, log: KEY },
      { ...good, seq: 5, job: "another job" },
    ];
    const loaded = loadEvents(lines.map((l) => JSON.stringify(l)).join("\n"));
    assert.deepEqual(loaded.events.map((e) => e.seq), [0]);
    assert.equal(loaded.dropped, 5);
  });

  it("loads facts with and without the worker that did them, in the same schema; a worker name that is no name drops its line", () => {
    const stamp = (e: BisectEvent, seq: number): string => JSON.stringify({ ...e, v: 2, job: "j", seq });
    const [, started, built] = facts(1) as [BisectEvent, BisectEvent, BisectEvent];
    const lines = [
      stamp(started, 0),
      stamp({ ...built, worker: "host-a:123" } as BisectEvent, 1),
      stamp({ ...(run("c0", 0, true) as Extract<BisectEvent, { type: "run-finished" }>), worker: "host-b:7" }, 2),
      stamp(run("c0", 1, true), 3),
      stamp({ ...(run("c0", 2, true) as Extract<BisectEvent, { type: "run-finished" }>), worker: "two words" }, 4),
    ];
    const loaded = loadEvents(lines.join("\n"));
    assert.deepEqual(loaded.events.map((e) => (e.type === "build-finished" || e.type === "run-finished" ? (e.worker ?? "-") : "-")), ["-", "host-a:123", "host-b:7", "-"]);
    assert.equal(loaded.dropped, 1);
  });

  it("hands out run indices past every index claimed, finished or not", () => {
    const events: BisectEvent[] = [{ type: "tests-started", at: 0, request: "r", commit: "c", remedies: [], indices: [0, 1, 2, 3] }, run("c", 3, false), run("c", 1, false)];
    assert.equal(nextRunIndex(events, "c", []), 4);
    assert.equal(nextRunIndex(events, "c", ["disable:LOCKDEP"]), 0);
    assert.equal(nextRunIndex([run("c", 6, true)], "c", []), 7);
  });

  it("fuzz: torn, duplicated and reordered lines never throw, and every fact counts once", () => {
    withDir((dir) => {
      const original = writtenLog(dir, facts(6)).trim().split("\n");
      const truth = loadEvents(original.join("\n"));
      const runsOf = (events: readonly BisectEvent[]) => observationsOf(events).map((o) => `${o.commit}:${o.runs.length}`).sort();
      const rnd = generator(10);
      for (let round = 0; round < 300; round++) {
        const lines: string[] = [];
        const kept = new Set<number>();
        for (const [i, line] of original.entries()) {
          const roll = rnd();
          if (roll < 0.1) {
            // torn: a prefix, or garbage glued to a prefix
            lines.push(line.slice(0, Math.floor(rnd() * line.length)) + (rnd() < 0.5 ? "" : "\u0000{\"x"));
            continue;
          }
          lines.push(line);
          kept.add(i);
          if (roll > 0.8) lines.push(line);
        }
        for (let i = lines.length - 1; i > 0; i--) {
          if (rnd() < 0.3) {
            const j = Math.floor(rnd() * (i + 1));
            [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
          }
        }
        const loaded = loadEvents(lines.join(rnd() < 0.5 ? "\n" : "\r\n"));
        // Every whole line counts once, in its original order, whatever was done to the rest.
        const want = truth.events.filter((_, i) => kept.has(i));
        assert.deepEqual(loaded.events.map((e) => e.seq), want.map((e) => e.seq), `round ${round}`);
        if (kept.size === original.length) assert.deepEqual(runsOf(loaded.events), runsOf(truth.events));
      }
    });
  });

  it("a log appended to after a torn tail reopens with both halves", () => {
    withDir((dir) => {
      const file = join(dir, "events.jsonl");
      const log = new EventLog(file);
      log.record(run("c", 0, true));
      appendFileSync(file, '{"type":"run-fin');
      const again = new EventLog(file);
      again.record(run("c", 1, true));
      assert.deepEqual(new EventLog(file).events.map((e) => e.seq), [0, 1]);
    });
  });
});

describe("requests still open after a restart", () => {
  const started = (request: string, commit: string, indices: number[]): BisectEvent => ({ type: "tests-started", at: 0, request, commit, remedies: [], indices });
  const ranIn = (request: string, commit: string, index: number): BisectEvent => ({ ...run(commit, index, false), request } as BisectEvent);
  const built = (request: string, commit: string, ok: boolean): BisectEvent => ({
    type: "build-finished",
    at: 0,
    request,
    commit,
    remedies: [],
    build: ok ? { kind: "ok", signature: "s" } : { kind: "failed", excerpt: "e" },
    cached: false,
    durationMs: 1,
    cacheKey: KEY,
    signatureLabel: "build",
  });
  const finished = (request: string, commit: string): BisectEvent => ({ type: "tests-finished", at: 0, request, commit, remedies: [], runs: 2, durationMs: 1 });
  const cases: [string, BisectEvent[], string[]][] = [
    ["started, nothing back yet", [started("r1", "a", [0, 1])], ["r1"]],
    ["built, one run of two back", [started("r1", "a", [0, 1]), built("r1", "a", true), ranIn("r1", "a", 0)], ["r1"]],
    ["finished", [started("r1", "a", [0, 1]), built("r1", "a", true), ranIn("r1", "a", 0), ranIn("r1", "a", 1), finished("r1", "a")], []],
    ["every run back, its end not yet", [started("r1", "a", [0, 1]), ranIn("r1", "a", 0), ranIn("r1", "a", 1)], []],
    ["its build failed", [started("r1", "a", [0, 1]), built("r1", "a", false)], []],
    ["build only, not built yet", [started("r1", "a", [])], ["r1"]],
    ["build only, built", [started("r1", "a", []), built("r1", "a", true)], []],
    ["its runs delivered by another request", [started("r1", "a", [0]), ranIn("r2", "a", 0)], []],
    ["two, one done", [started("r1", "a", [0]), started("r2", "b", [0]), ranIn("r1", "a", 0), finished("r1", "a")], ["r2"]],
  ];
  for (const [name, events, open] of cases) {
    it(name, () => assert.deepEqual(openRequests(events).map((r) => r.request), open));
  }
});

describe("a schema-1 log is upgraded, not dropped", () => {
  const text = readFileSync(SCHEMA1_LOG, "utf8");
  const keyOf = (logFile: string): string => createHash("sha256").update(logFile).digest("hex");

  it("every line becomes a schema-2 event of the same job and sequence, each fact in the request its test opened", () => {
    const upgraded = upgradeSchema1(text, keyOf) ?? [];
    const lines = text.trim().split("\n").map((l) => JSON.parse(l) as { seq: number; job: string; logFile?: string });
    assert.equal(upgraded.length, lines.length);
    assert.deepEqual(upgraded.map((e) => [e.seq, e.job, e.v]), lines.map((l) => [l.seq, l.job, 2]));
    const loaded = loadEvents(upgraded.map((e) => JSON.stringify(e)).join("\n"));
    assert.equal(loaded.dropped, 0, "every upgraded line is a valid schema-2 event, none a repeat");
    // Three tests (start, release v1.1, one bisection step): each one request from its build to its tests-finished.
    const requests = new Map<string, Set<string>>();
    for (const e of loaded.events) if ("request" in e) requests.set(e.request, (requests.get(e.request) ?? new Set()).add(e.commit));
    assert.equal(requests.size, 3);
    for (const commits of requests.values()) assert.equal(commits.size, 1);
    assert.equal(observationsOf(loaded.events).reduce((n, o) => n + o.runs.length, 0), 12);
    const logFileAt = new Map(lines.map((l) => [l.seq, l.logFile ?? ""]));
    for (const e of loaded.events) if (e.type === "run-finished") assert.equal(e.log, keyOf(logFileAt.get(e.seq) ?? "-"), "a run's log is the one its path named");
    assert.deepEqual(upgradeSchema1(text, keyOf), upgraded, "the same log upgrades to the same lines");
  });

  it("a log already of schema 2, or of no known schema, is left as it is", () => {
    assert.equal(upgradeSchema1(facts(2).map((e, seq) => JSON.stringify({ ...e, v: 2, job: "j", seq })).join("\n"), keyOf), undefined);
    assert.equal(upgradeSchema1(JSON.stringify({ type: "interrupted", at: 1, v: 7, job: "j", seq: 0 }), keyOf), undefined);
  });
});
