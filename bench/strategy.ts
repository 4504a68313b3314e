// How long culprit's strategy takes to choose the next commits on a kernel-sized range:
// 20,000 commits with merges and 300 observations. Prints the median and the peak memory.
// Each timed call gets a fresh graph object, so no memoised ancestry from an earlier call helps.

import { performance } from "node:perf_hooks";
import { Dag } from "../src/core/dag.js";
import type { Observation } from "../src/core/outcome.js";
import { DEFAULT_LIMITS, nextStep } from "../src/core/bayes.js";
import { generator } from "../src/sim/random.js";
import { scenarioSchema } from "../src/sim/scenario.js";
import { buildWorld, problemFor, simulateBuild, simulateRun } from "../src/sim/world.js";

const COMMITS = 20000;
const OBSERVATIONS = 300;
const SAMPLES = 7;

const scenario = scenarioSchema.parse({
  name: "bench",
  kind: "cause",
  seed: 11,
  history: { commits: COMMITS, mergeEvery: 20, sideBranchLength: 12, releaseEvery: 1000 },
  culprit: 12345,
  target: { title: "general protection fault in blk_mq_run_hw_queues", type: "DoS", reproChance: 0.4 },
  otherCrashes: [{ title: "INFO: task hung in genl_rcv_msg", type: "HANG", from: 0, to: null, chance: 0.1 }],
  sameSignatureFraction: 0.3,
  infraErrorRate: 0.02,
});
const world = buildWorld(scenario);
const random = generator(99);
const observations: Observation[] = [];
const seen = new Set<number>([world.start]);
const observe = (index: number): void => {
  const commit = world.history.hashes[index] as string;
  const build = simulateBuild(world, index, []);
  const runs = build.kind === "ok" ? Array.from({ length: 10 }, (_, r) => simulateRun(world, index, [], r)) : [];
  observations.push({ commit, remedies: [], build, runs });
};
observe(world.start);
while (observations.length < OBSERVATIONS) {
  const index = Math.floor(random() * COMMITS);
  if (seen.has(index)) continue;
  seen.add(index);
  observe(index);
}
const merges = world.history.parents.filter((p) => p.length > 1).length;
const nodes = world.history.hashes.map((hash, i) => ({ hash, parents: (world.history.parents[i] as number[]).map((p) => world.history.hashes[p] as string) }));

const timesMs: number[] = [];
// CPU time of the call too: on a machine shared with other jobs the wall time mostly measures them.
const cpuMs: number[] = [];
let tests = 0;
for (let s = 0; s < SAMPLES; s++) {
  for (const workers of [1]) {
    const problem = { ...problemFor(world, 4 * workers), graph: new Dag(nodes) };
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // A 300-observation bisection is past the default test budget; lift it so the choice itself is timed.
    const step = nextStep(problem, observations, { ...DEFAULT_LIMITS, batchBudget: () => Infinity });
    const cpu = process.cpuUsage(c0);
    timesMs.push(performance.now() - t0);
    cpuMs.push((cpu.user + cpu.system) / 1000);
    tests = step.kind === "test" ? step.tests.length : 0;
  }
}
timesMs.sort((a, b) => a - b);
cpuMs.sort((a, b) => a - b);
const median = timesMs[Math.floor(timesMs.length / 2)] as number;
const cpuMedian = cpuMs[Math.floor(cpuMs.length / 2)] as number;
const peakMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  `strategy culprit: ${COMMITS} commits (${merges} merges), ${observations.length} observations, ${tests} commits chosen (P=4)\n` +
    `next(): median ${(median / 1000).toFixed(3)} s over ${SAMPLES} cold calls (min ${(timesMs[0] as number / 1000).toFixed(3)} s, max ${((timesMs[timesMs.length - 1] as number) / 1000).toFixed(3)} s); CPU time median ${(cpuMedian / 1000).toFixed(3)} s\n` +
    `peak memory (max RSS of the whole process): ${peakMiB.toFixed(0)} MiB\n`,
);
