// Drives one strategy through one simulated world as the orchestrator drives a real bisection: a
// pipeline, not lockstep steps. The strategy is asked again whenever a worker frees up, is shown
// the tests in flight, and a request already in flight is not started twice (core/schedule.ts).
// Facts land on a virtual clock from the cost model: a build when it ends, each batch of runs when
// it ends, so the strategy sees a long request's finished batches as a real one would.

import type { Observation, RunOutcome } from "../core/outcome.js";
import { observationKey } from "../core/outcome.js";
import { requestsToStart } from "../core/schedule.js";
import type { Strategy, StrategyResult, TestRequest } from "../core/strategy.js";
import { problemFor, simulateBuild, simulateRun, type World } from "./world.js";

export interface SimRun {
  result: StrategyResult;
  builds: number;
  runs: number;
  wallMinutes: number;
  /** How many times the strategy was asked. */
  steps: number;
}

/** Questions per worker after which a strategy that never finishes is stopped and scored inconclusive. */
export const STEP_LIMIT = 600;

/** A fact that lands at a virtual time: a build's outcome, or one batch of runs. */
interface Fact {
  at: number;
  key: string;
  build?: Observation;
  runs?: RunOutcome[];
}

interface Running {
  request: TestRequest;
  /** When its last fact lands and its worker is free. */
  until: number;
  facts: Fact[];
}

/**
 * The facts of one request started at `now`, and when its worker is free again. A (commit,
 * remedies) pair is built once per bisection; runs go in batches of `vmsPerWorker`, one after the
 * other, each batch named by its first run; `first` is the first run index the request claims.
 */
function plan(world: World, request: TestRequest, known: Observation | undefined, first: number, now: number, counts: { builds: number; runs: number }): Running {
  const { cost } = world.scenario;
  const index = world.byHash.get(request.commit);
  if (index === undefined) throw new Error(`asked for unknown commit ${request.commit}`);
  const remedies = [...request.remedies].sort();
  const key = observationKey(request.commit, remedies);
  const facts: Fact[] = [];
  let at = now;
  let build = known?.build;
  if (!known) {
    build = simulateBuild(world, index, remedies);
    at += cost.buildMinutes;
    counts.builds++;
    facts.push({ at, key, build: { commit: request.commit, remedies, build, runs: [] } });
  }
  if (build?.kind === "ok" && request.runs > 0) {
    counts.runs += request.runs;
    for (let b = 0; b < request.runs; b += cost.vmsPerWorker) {
      const size = Math.min(cost.vmsPerWorker, request.runs - b);
      const runs = Array.from({ length: size }, (_, r) => simulateRun(world, index, remedies, first + b + r, first + b));
      at += cost.testMinutes;
      facts.push({ at, key, runs });
    }
  }
  return { request, until: at, facts };
}

export function simulate(world: World, strategy: Strategy, workers: number): SimRun {
  const problem = problemFor(world, workers);
  const slots = Math.max(1, workers);
  const observations = new Map<string, Observation>();
  const counts = { builds: 0, runs: 0 };
  // Run indices are claimed when a request starts, as the orchestrator records them: requests
  // running alongside each other draw runs of their own.
  const claimed = new Map<string, number>();
  let running: Running[] = [];
  let now = 0;
  const land = (fact: Fact): void => {
    const obs = fact.build ?? observations.get(fact.key);
    if (!obs) throw new Error(`runs of ${fact.key} before its build`);
    observations.set(fact.key, fact.runs ? { ...obs, runs: [...obs.runs, ...fact.runs] } : obs);
  };
  const limit = STEP_LIMIT * slots;
  for (let step = 0; step < limit; step++) {
    const inFlight = running.map((r) => r.request);
    const next = strategy.next(problem, [...observations.values()], inFlight);
    if (next.kind === "done") {
      // As the orchestrator does, the answer stops the tests still in flight: what they had not
      // done by now is neither waited for nor spent.
      for (const fact of running.flatMap((r) => r.facts)) {
        if (fact.build) counts.builds--;
        counts.runs -= fact.runs?.length ?? 0;
      }
      return { result: next.result, builds: counts.builds, runs: counts.runs, wallMinutes: now, steps: step };
    }
    const start = requestsToStart(next.tests, inFlight, slots - running.length);
    if (start.length === 0 && running.length === 0) throw new Error(`strategy ${strategy.name} asked for no tests`);
    for (const request of start) {
      const key = observationKey(request.commit, [...request.remedies].sort());
      const known = observations.get(key);
      const first = claimed.get(key) ?? 0;
      const planned = plan(world, request, known, first, now, counts);
      if (planned.facts.some((f) => f.runs)) claimed.set(key, first + request.runs);
      running.push(planned);
    }
    // Ask again at once while a worker is free and the strategy had more to give; else when the
    // next request ends, with every fact that landed by then.
    if (running.length < slots && start.length > 0) continue;
    now = Math.min(...running.map((r) => r.until));
    const facts = running.flatMap((r) => r.facts.filter((f) => f.at <= now)).sort((a, b) => a.at - b.at);
    for (const fact of facts) land(fact);
    running = running
      .filter((r) => r.until > now)
      .map((r) => ({ ...r, facts: r.facts.filter((f) => f.at > now) }));
  }
  return {
    result: { outcome: "inconclusive", candidates: [], confidence: 0 },
    builds: counts.builds,
    runs: counts.runs,
    wallMinutes: Math.max(now, ...running.map((r) => r.until)),
    steps: limit,
  };
}
