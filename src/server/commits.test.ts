import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { BisectEvent } from "../bisect/events.js";
import type { BisectResult } from "../bisect/result.js";
import { commitRows } from "./commits.js";

const KEY = "a".repeat(64);
const built = (commit: string, ok: boolean, cached = false, remedies: string[] = []): BisectEvent[] => [
  { type: "build-started", at: 0, request: `r-${commit}`, commit, remedies, toolchain: "gcc" },
  {
    type: "build-finished",
    at: 0,
    request: `r-${commit}`,
    commit,
    remedies,
    build: ok ? { kind: "ok", signature: `sig-${commit}` } : { kind: "failed", excerpt: "error" },
    cached,
    durationMs: 10,
    cacheKey: KEY,
    signatureLabel: "build",
  },
];
const run = (commit: string, index: number, crash?: string, remedies: string[] = []): BisectEvent => ({
  type: "run-finished",
  at: 0,
  request: `r-${commit}`,
  commit,
  remedies,
  index,
  outcome: crash ? { kind: "crash", crash: { title: crash, alt: [], type: "", frame: "" } } : { kind: "ok" },
  durationMs: 1,
  log: KEY,
});
const finished = (commit: string, ms: number, remedies: string[] = []): BisectEvent => ({ type: "tests-finished", at: 0, request: `r-${commit}`, commit, remedies, runs: 3, durationMs: ms });

describe("commitRows", () => {
  const cases: [string, BisectEvent[], ReturnType<typeof commitRows>][] = [
    ["no builds yet", [], []],
    [
      "runs summed by outcome, most frequent first; test time over batches; verdict and release tag",
      [
        { type: "note", at: 0, note: { kind: "release", tag: "v1.0", commit: "c1" } },
        ...built("c1", true),
        run("c1", 0, "KASAN: x"),
        run("c1", 1),
        run("c1", 2),
        finished("c1", 30),
        run("c1", 3, "KASAN: x"),
        run("c1", 4, "KASAN: x"),
        finished("c1", 20),
        { type: "note", at: 0, note: { kind: "verdict", commit: "c1", verdict: "bad" } },
      ],
      [
        {
          commit: "c1",
          remedies: [],
          label: "v1.0",
          build: { ok: true, signature: "sig-c1", cached: false, durationMs: 10 },
          runs: [
            { outcome: "crashed: KASAN: x", count: 3 },
            { outcome: "OK", count: 2 },
          ],
          testMs: 50,
          verdict: "bad",
        },
      ],
    ],
    [
      "a failed build, a step's title, and the same commit with a remedy as its own row, in build order",
      [
        { type: "note", at: 0, note: { kind: "bisect-step", commit: "c2", revisionsLeft: 3, stepsLeft: 2 }, title: "net: fix" },
        ...built("c2", false),
        ...built("c2", true, true, ["no-lockdep"]),
      ],
      [
        { commit: "c2", remedies: [], label: "net: fix", build: { ok: false, cached: false, durationMs: 10 }, runs: [], testMs: 0 },
        { commit: "c2", remedies: ["no-lockdep"], label: "net: fix", build: { ok: true, signature: "sig-c2", cached: true, durationMs: 10 }, runs: [], testMs: 0 },
      ],
    ],
    [
      "the worker of each build and run: built by one, ran by two (most runs first); building names its worker before it is done",
      [
        ...built("c3", true).map((e) => ({ ...e, worker: "w1" }) as BisectEvent),
        { ...(run("c3", 0) as Extract<BisectEvent, { type: "run-finished" }>), worker: "w2" },
        { ...(run("c3", 1) as Extract<BisectEvent, { type: "run-finished" }>), worker: "w1" },
        { ...(run("c3", 2) as Extract<BisectEvent, { type: "run-finished" }>), worker: "w1" },
        { ...(built("c4", true)[0] as BisectEvent), worker: "w2" } as BisectEvent,
      ],
      [
        {
          commit: "c3",
          remedies: [],
          build: { ok: true, signature: "sig-c3", cached: false, durationMs: 10 },
          builtBy: "w1",
          runs: [{ outcome: "OK", count: 3 }],
          ranBy: [
            { worker: "w1", count: 2 },
            { worker: "w2", count: 1 },
          ],
          testMs: 0,
        },
        { commit: "c4", remedies: [], builtBy: "w2", runs: [], testMs: 0 },
      ],
    ],
    [
      "a build under way when the job ended was stopped (the answer did not need it)",
      [...built("c1", true), built("c2", true)[0] as BisectEvent, { type: "finished", at: 0, result: {} as BisectResult }],
      [
        { commit: "c1", remedies: [], build: { ok: true, signature: "sig-c1", cached: false, durationMs: 10 }, runs: [], testMs: 0 },
        { commit: "c2", remedies: [], runs: [], testMs: 0, stopped: true },
      ],
    ],
  ];
  for (const [name, events, want] of cases) it(name, () => assert.deepEqual(commitRows(events), want));
});
