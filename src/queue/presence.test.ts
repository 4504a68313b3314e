import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { announcement, heartbeat, MISSED_HEARTBEATS, workerState, type WorkerState } from "./presence.js";

describe("workerState", () => {
  const beat = 1_000;
  const cases: [string, { lastSeen: number; stopped: boolean }, number, WorkerState][] = [
    ["heard from just now", { lastSeen: 10_000, stopped: false }, 10_000, "live"],
    ["silent for all but the last allowed heartbeat", { lastSeen: 10_000, stopped: false }, 10_000 + MISSED_HEARTBEATS * beat, "live"],
    ["silent past its missed heartbeats", { lastSeen: 10_000, stopped: false }, 10_001 + MISSED_HEARTBEATS * beat, "gone"],
    ["said it stopped, however long ago", { lastSeen: 10_000, stopped: true }, 10_000 + 100 * beat, "stopped"],
  ];
  for (const [name, worker, now, want] of cases) it(name, () => assert.equal(workerState({ ...worker, heartbeatMs: beat }, now), want));
});

describe("what a worker may say", () => {
  const good = { name: "host-a:12", capabilities: ["generic"], concurrency: { builds: 1, runs: 4 }, heartbeatMs: 15_000 };
  const cases: [string, unknown, boolean][] = [
    ["an announcement", good, true],
    ["a capability twice", { ...good, capabilities: ["generic", "generic"] }, false],
    ["an unknown capability", { ...good, capabilities: ["gpu"] }, false],
    ["no capability", { ...good, capabilities: [] }, false],
    ["a name with a space", { ...good, name: "a b" }, false],
    ["zero builds at once", { ...good, concurrency: { builds: 0, runs: 4 } }, false],
    ["a field more", { ...good, admin: true }, false],
  ];
  for (const [name, value, ok] of cases) it(name, () => assert.equal(announcement.safeParse(value).success, ok));

  const work = { request: "r1", job: "00000000-0000-4000-8000-000000000001", commit: "c0ffee12", remedies: [], phase: "run" };
  const beats: [string, unknown, boolean][] = [
    ["idle", { doing: [] }, true],
    ["a request in hand", { doing: [work] }, true],
    ["its last", { doing: [], stopped: true }, true],
    ["a job that is no job id", { doing: [{ ...work, job: "../etc" }] }, false],
    ["a phase it has not", { doing: [{ ...work, phase: "sleep" }] }, false],
  ];
  for (const [name, value, ok] of beats) it(`heartbeat: ${name}`, () => assert.equal(heartbeat.safeParse(value).success, ok));
});
