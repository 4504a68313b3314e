import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { bayesStrategy } from "../core/bayes.js";
import { generateHistory } from "./history.js";
import { gitBisectStrategy, syzbot2021Strategy, syzbot2024Releases, syzbot2024Strategy, syzbot2024Verdict, type Verdict } from "./baselines.js";
import { parseScenarios, scenarioSchema } from "./scenario.js";
import { isCorrect, summarise } from "./score.js";
import { makespan, simulate } from "./simulate.js";
import { SEED_LIKE_MASKING, builtinSuite } from "./suite.js";
import { runSuite } from "./suite-run.js";
import { buildWorld } from "./world.js";
import type { Observation, RunOutcome } from "../core/outcome.js";

describe("scenario files", () => {
  it("the issue's example parses", () => {
    const [s] = parseScenarios(SEED_LIKE_MASKING, "example");
    assert.equal(s?.culprit, 5210);
    assert.equal(s?.otherCrashes[0]?.to, null);
  });
  const bad: [string, unknown][] = [
    ["culprit outside the history", { ...SEED_LIKE_MASKING, culprit: 9000 }],
    ["chance above 1", { ...SEED_LIKE_MASKING, target: { ...SEED_LIKE_MASKING.target, reproChance: 1.5 } }],
    ["unknown kind", { ...SEED_LIKE_MASKING, kind: "sideways" }],
    ["stretch backwards", { ...SEED_LIKE_MASKING, buildBroken: [{ from: 10, to: 5 }] }],
  ];
  for (const [name, input] of bad) it(`rejects ${name}`, () => assert.throws(() => parseScenarios(input, "x"), { name: "UserError" }));
});

describe("synthetic history", () => {
  it("is topological, has merges, releases and the requested size", () => {
    const h = generateHistory({ commits: 500, mergeEvery: 10, sideBranchLength: 5, releaseEvery: 100 }, 3);
    assert.equal(h.parents.length, 500);
    h.parents.forEach((ps, i) => ps.forEach((p) => assert.ok(p < i)));
    assert.ok(h.parents.filter((p) => p.length === 2).length > 5);
    assert.ok(h.releases.length >= 4);
    assert.equal(h.mainline[499], 1);
  });
  it("a culprit always changes the binary", () => {
    const world = buildWorld(scenarioSchema.parse({ ...SEED_LIKE_MASKING, sameSignatureFraction: 0.9 }));
    const culprit = world.scenario.culprit as number;
    const parent = world.history.parents[culprit]?.[0] as number;
    assert.notEqual(world.signature[culprit], world.signature[parent]);
  });
});

describe("syzbot 2024 rules", () => {
  const runs = (crash: number, ok: number, infra = 0): Observation => ({
    commit: "x",
    remedies: [],
    build: { kind: "ok", signature: "s" },
    runs: [
      ...Array.from({ length: crash }, (): RunOutcome => ({ kind: "crash", crash: { title: "t", alt: [], type: "", frame: "" } })),
      ...Array.from({ length: ok }, (): RunOutcome => ({ kind: "ok" })),
      ...Array.from({ length: infra }, (): RunOutcome => ({ kind: "infra", reason: "" })),
    ],
  });
  const cases: [string, Observation, boolean, Verdict][] = [
    ["two crashes of ten", runs(2, 8), false, "crash"],
    ["one crash is not enough", runs(1, 9), false, "skip"],
    ["all clean", runs(0, 10), false, "clean"],
    ["too few usable runs", runs(0, 4, 6), false, "skip"],
    ["flaky needs three quarters clean", runs(0, 6, 4), true, "skip"],
  ];
  for (const [name, o, flaky, want] of cases) it(name, () => assert.equal(syzbot2024Verdict(o, 10, flaky), want));
  it("release subset", () => {
    const tags = Array.from({ length: 16 }, (_, i) => `v5.${15 - i}`);
    assert.deepEqual(syzbot2024Releases(["v5.15.3", "v5.15.2", "v5.15.1", ...tags]), [
      "v5.15.3", "v5.15.2", "v5.15", "v5.14", "v5.13", "v5.11", "v5.9", "v5.7", "v5.5", "v5.2", "v5.0",
    ]);
  });
});

describe("virtual clock", () => {
  const cases: [number[], number, number][] = [
    [[15.5], 1, 15.5],
    [[15.5, 15.5, 8.5], 1, 39.5],
    [[15.5, 15.5, 8.5], 4, 15.5],
    [[10, 6, 5, 4], 2, 14],
  ];
  for (const [durations, workers, want] of cases) it(`${durations.join("+")} on ${workers}`, () => assert.equal(makespan(durations, workers), want));
});

describe("the issue's example scenario", () => {
  it("culprit finds 5210 through the masking deadlock; syzbot 2021 does not", () => {
    const world = buildWorld(scenarioSchema.parse(SEED_LIKE_MASKING));
    const ours = simulate(world, bayesStrategy, 1);
    assert.deepEqual(ours.result.outcome === "culprit" && ours.result.culprit, "c005210");
    const theirs = simulate(world, syzbot2021Strategy, 1);
    assert.notEqual(theirs.result.outcome === "culprit" && theirs.result.culprit, "c005210");
  });
});

describe("small simulated suite (accuracy floors and calibration)", () => {
  // Another seed than the one `culprit sim` reports, and small ranges, to keep this under a few seconds.
  const scenarios = builtinSuite(5).filter((s) => s.history.commits <= 1500).slice(0, 80);
  const { runs } = runSuite(scenarios, [bayesStrategy, gitBisectStrategy, syzbot2024Strategy], [1]);
  const of = (name: string) => summarise(name, 1, runs.filter((r) => r.strategy === name));
  it("has enough scenarios", () => assert.ok(scenarios.length >= 50, `${scenarios.length}`));
  it("culprit is right at least 93% of the time, wrong with a single culprit at most 3%", () => {
    const s = of("culprit");
    assert.ok(s.correctPct >= 93, `correct ${s.correctPct}`);
    assert.ok(s.wrongSinglePct <= 3, `wrong ${s.wrongSinglePct}`);
  });
  it("the baselines are well below", () => {
    assert.ok(of("git-bisect").correctPct < of("culprit").correctPct - 20);
    assert.ok(of("syzbot-2024").correctPct < of("culprit").correctPct);
  });
  it("calibration: of the results stated at ≥90%, at least 87% are right", () => {
    const claims = runs.filter((r) => r.strategy === "culprit" && r.result.outcome !== "inconclusive" && r.result.confidence >= 0.9);
    const right = claims.filter((r) => isCorrect(r.grade)).length;
    assert.ok(claims.length >= 20);
    assert.ok(right / claims.length >= 0.87, `${right}/${claims.length}`);
  });
});
