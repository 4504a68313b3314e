// Drives one strategy through one simulated world: asks it what to test, builds and runs in the
// world, charges a virtual clock from the cost model, until the strategy gives a result.

import type { Observation } from "../core/outcome.js";
import { observationKey } from "../core/outcome.js";
import type { Strategy, StrategyResult } from "../core/strategy.js";
import { problemFor, simulateBuild, simulateRun, type World } from "./world.js";

export interface SimRun {
  result: StrategyResult;
  builds: number;
  runs: number;
  wallMinutes: number;
  steps: number;
}

/** Steps after which a strategy that never finishes is stopped and scored inconclusive. */
export const STEP_LIMIT = 600;

/** Longest-processing-time-first onto `workers` machines: the wall time of one step. */
export function makespan(durations: readonly number[], workers: number): number {
  const loads = new Array<number>(Math.max(1, workers)).fill(0);
  for (const d of [...durations].sort((a, b) => b - a)) {
    let least = 0;
    for (let w = 1; w < loads.length; w++) if ((loads[w] as number) < (loads[least] as number)) least = w;
    loads[least] = (loads[least] as number) + d;
  }
  return Math.max(...loads);
}

export function simulate(world: World, strategy: Strategy, workers: number): SimRun {
  const problem = problemFor(world, workers);
  const { cost } = world.scenario;
  const observations = new Map<string, Observation>();
  let builds = 0;
  let runs = 0;
  let wall = 0;
  for (let step = 0; step < STEP_LIMIT; step++) {
    const next = strategy.next(problem, [...observations.values()]);
    if (next.kind === "done") return { result: next.result, builds, runs, wallMinutes: wall, steps: step };
    if (next.tests.length === 0) throw new Error(`strategy ${strategy.name} asked for no tests`);
    const durations: number[] = [];
    for (const request of next.tests) {
      const index = world.byHash.get(request.commit);
      if (index === undefined) throw new Error(`strategy ${strategy.name} asked for unknown commit ${request.commit}`);
      const remedies = [...request.remedies].sort();
      const key = observationKey(request.commit, remedies);
      let obs = observations.get(key);
      let minutes = 0;
      if (!obs) {
        // The build cache: a (commit, remedies) pair is built once per bisection.
        obs = { commit: request.commit, remedies, build: simulateBuild(world, index, remedies), runs: [] };
        observations.set(key, obs);
        builds++;
        minutes += cost.buildMinutes;
      }
      if (obs.build?.kind === "ok" && request.runs > 0) {
        const have = obs.runs.length;
        // One request is run as ceil(runs / vmsPerWorker) batches; a batch is named by its first run.
        const batchOf = (r: number): number => have + r - (r % cost.vmsPerWorker);
        const fresh = Array.from({ length: request.runs }, (_, r) => simulateRun(world, index, remedies, have + r, batchOf(r)));
        obs = { ...obs, runs: [...obs.runs, ...fresh] };
        observations.set(key, obs);
        runs += request.runs;
        minutes += Math.ceil(request.runs / cost.vmsPerWorker) * cost.testMinutes;
      }
      durations.push(minutes);
    }
    wall += makespan(durations, workers);
  }
  return {
    result: { outcome: "inconclusive", candidates: [], confidence: 0 },
    builds,
    runs,
    wallMinutes: wall,
    steps: STEP_LIMIT,
  };
}
