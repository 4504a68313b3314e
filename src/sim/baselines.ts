// The strategies culprit is measured against. syzbot's (2021 and 2024 rules) are core/syzbot.ts,
// the code `--strategy syzbot` runs; here only the simulator's view of them and a model of
// `git bisect run` with a crash-detecting script. None is title-aware: any crash is "bad".

import type { Observation } from "../core/outcome.js";
import { cachedMidpoint } from "../core/midpoint.js";
import { DEFAULT_RELEASE_PICK, pickReleases } from "../core/releasePick.js";
import type { Step, Strategy, StrategyResult, TestRequest } from "../core/strategy.js";
import { syzbotStrategyOf } from "../core/syzbot.js";

/** syzbot 2024 on a kernel: the orchestrator picks releases with core/releasePick.ts; the simulator's problem holds them all. */
export const syzbot2024Strategy: Strategy = syzbotStrategyOf({
  name: "syzbot-2024",
  rules: "2024",
  releases: (releases) => pickReleases(releases, DEFAULT_RELEASE_PICK),
});

/** syzbot 2021 tested every older release tag, newest first. */
export const syzbot2021Strategy: Strategy = syzbotStrategyOf({ name: "syzbot-2021", rules: "2021", releases: (releases) => [...releases] });

type GitVerdict = "bad" | "good" | "skip";

/** `git bisect run` with a script that runs the reproducer once: any crash (boot failures too) is bad, a failed build or a lost run is skip. */
export function gitBisectVerdict(o: Observation): GitVerdict {
  if (o.build?.kind === "failed") return "skip";
  const run = o.runs[0];
  if (!run) return "skip";
  if (run.kind === "crash" || run.kind === "boot-failed" || run.kind === "basic-failed") return "bad";
  return run.kind === "ok" ? "good" : "skip";
}

class Pending {
  constructor(readonly request: TestRequest) {}
}

function gitBisect(problem: Parameters<Strategy["next"]>[0], observations: readonly Observation[]): StrategyResult {
  const dag = problem.graph;
  const byCommit = new Map<string, Observation>();
  for (const o of observations) if (o.remedies.length === 0) byCommit.set(o.commit, o);
  const judge = (commit: number): GitVerdict => {
    const hash = dag.hash(commit);
    const o = byCommit.get(hash);
    if (!o?.build || (o.build.kind === "ok" && o.runs.length < 1)) throw new Pending({ commit: hash, runs: 1, remedies: [] });
    return gitBisectVerdict(o);
  };
  const start = dag.index(problem.start);
  if (judge(start) !== "bad") return { outcome: "no-culprit", reason: "not-reproduced", detail: "the start commit did not crash", confidence: 1 };
  let bad: number;
  let good: number;
  if (problem.kind === "cause") {
    // git bisect needs one good commit: the oldest release, or else the oldest commit.
    const oldest = problem.releases[problem.releases.length - 1];
    good = oldest && dag.has(oldest.commit) ? dag.index(oldest.commit) : 0;
    bad = start;
    // The script's verdict on it must be good; a crash or an untestable oldest release ends it.
    if (judge(good) !== "good") return { outcome: "no-culprit", reason: "oldest-crashes", detail: "the oldest release does not test good", confidence: 1 };
  } else {
    bad = dag.index(problem.good ?? dag.hash(dag.size - 1));
    good = start;
    const v = judge(bad);
    if (v === "bad") return { outcome: "no-culprit", reason: "oldest-crashes", detail: "the newest commit still crashes", confidence: 1 };
    if (v === "skip") return { outcome: "no-culprit", reason: "untestable", detail: "the newest commit cannot be tested", confidence: 1 };
  }
  const goods = [good];
  const skipped = new Set<number>();
  for (;;) {
    const step = cachedMidpoint(dag, bad, goods, skipped);
    if (step.kind === "found") {
      const parent = dag.parents[step.culprit]?.[0];
      return parent === undefined
        ? { outcome: "culprit", culprit: dag.hash(step.culprit), confidence: 1 }
        : { outcome: "culprit", culprit: dag.hash(step.culprit), parent: dag.hash(parent), confidence: 1 };
    }
    if (step.kind === "only-skipped") return { outcome: "inconclusive", candidates: step.candidates.map((c) => dag.hash(c)), confidence: 1 };
    const v = judge(step.commit);
    // Fix bisection in git's terms: "bad" is the new state, i.e. no crash any more.
    const crashed = v === "bad";
    if (v === "skip") skipped.add(step.commit);
    else if (crashed === (problem.kind === "cause")) bad = step.commit;
    else goods.push(step.commit);
  }
}

export const gitBisectStrategy: Strategy = {
  name: "git-bisect",
  next(problem, observations): Step {
    try {
      return { kind: "done", result: gitBisect(problem, observations), notes: [] };
    } catch (e) {
      if (e instanceof Pending) return { kind: "test", tests: [e.request], notes: [] };
      throw e;
    }
  },
};
