// Which builds to make ahead of need. While a commit's runs go, the build of the commit the
// strategy asks for next could be under way: which one that is depends on the answer, so the
// strategy is asked once for each answer the tests in flight may give (every run shows the
// crash, every run is clean) and the commits it would test are wished for. Pure: a guess only
// decides what is built early, never what is read.

import { observationKey, type CrashSummary, type Observation, type RunOutcome } from "../core/outcome.js";
import type { BisectProblem, Strategy, TestRequest } from "../core/strategy.js";
import { mostFrequentCrash } from "../core/verdict.js";
import type { BuildWish } from "./executor.js";

/** The crash a hypothetical run shows before the start's runs have named one: any will do, the strategy takes it for the target. */
const SOME_CRASH: CrashSummary = { title: "the crash being bisected", alt: [], type: "", frame: "" };

/**
 * Up to `limit` commits the strategy would test next, for each answer the tests in flight may
 * give; where one answer leaves a slot free (the start's runs: only "it crashes" leads anywhere
 * new, to the good commit), the next answer after that is looked at too (the good commit clean:
 * the first split).
 */
export function buildsAhead(strategy: Strategy, problem: BisectProblem, observations: readonly Observation[], inFlight: readonly TestRequest[], limit = 2): BuildWish[] {
  const answers: RunOutcome[] = [{ kind: "crash", crash: likelyTarget(problem, observations) }, { kind: "ok" }];
  const built = new Set(observations.filter((o) => o.build !== undefined).map((o) => observationKey(o.commit, o.remedies)));
  const asked = new Set(inFlight.map((t) => observationKey(t.commit, t.remedies)));
  const wishes = new Map<string, BuildWish>();
  let states: { observations: readonly Observation[]; inFlight: readonly TestRequest[] }[] = inFlight.length > 0 ? [{ observations, inFlight }] : [];
  for (let depth = 0; depth < 2 && states.length > 0 && wishes.size < limit; depth++) {
    const deeper: typeof states = [];
    for (const state of states) {
      for (const answer of answers) {
        if (wishes.size >= limit) break;
        const after = answered(state.observations, state.inFlight, answer);
        const step = strategy.next(problem, after, []);
        if (step.kind !== "test") continue;
        const next = step.tests.find((t) => {
          const key = observationKey(t.commit, t.remedies);
          return !built.has(key) && !asked.has(key) && !wishes.has(key);
        });
        if (!next) continue;
        wishes.set(observationKey(next.commit, next.remedies), { commit: next.commit, remedies: [...next.remedies] });
        deeper.push({ observations: after, inFlight: [next] });
      }
    }
    states = deeper;
  }
  return [...wishes.values()];
}

/** The crash the strategy bisects, as far as can be told from outside it: the named one, else the start's commonest. */
function likelyTarget(problem: BisectProblem, observations: readonly Observation[]): CrashSummary {
  const startRuns = observations.filter((o) => o.commit === problem.start).flatMap((o) => o.runs);
  return problem.target ?? mostFrequentCrash(startRuns) ?? SOME_CRASH;
}

/** The observations as they would be once every test in flight came back with `answer` on each run. */
function answered(observations: readonly Observation[], inFlight: readonly TestRequest[], answer: RunOutcome): Observation[] {
  const byKey = new Map(observations.map((o) => [observationKey(o.commit, o.remedies), { ...o, runs: [...o.runs] }]));
  for (const test of inFlight) {
    const key = observationKey(test.commit, test.remedies);
    const known = byKey.get(key) ?? { commit: test.commit, remedies: [...test.remedies].sort(), build: { kind: "ok", signature: `ahead:${key}` }, runs: [] };
    if (known.build === undefined) known.build = { kind: "ok", signature: `ahead:${key}` };
    if (known.build.kind === "ok") known.runs.push(...Array.from({ length: test.runs }, () => answer));
    byKey.set(key, known);
  }
  return [...byKey.values()];
}
