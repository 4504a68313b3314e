// culprit's default strategy: Bayesian and title-aware. It keeps a posterior over every commit
// of the range (plus "bug predates the range / never fixed" and "the start crash was a flake"),
// treats other crashes as censored evidence, learns the reproduction chance as it goes, tests
// where a batch of runs tells most per unit of cost, and names a culprit only once it is both
// probable and verified. Pure: everything comes from the problem and the observations.

import { cachedAncestry, type Dag } from "./dag.js";
import { observationKey, type CrashSummary, type Observation, type RunOutcome } from "./outcome.js";
import type { BisectProblem, Note, RemedyRule, Step, Strategy, StrategyResult, TestRequest } from "./strategy.js";
import {
  appliedRemedies,
  builtKey,
  startTarget,
  gatherEvidence,
  learnTarget,
  type Evidence,
  type EvidenceGroup,
  type Grading,
} from "./bayes-evidence.js";
import { countEvidence, type EvidenceCounts } from "./evidence.js";
import { baseRoot, computePosterior, credibleSet, reproChanceGiven, topHypothesis, type Posterior } from "./bayes-posterior.js";
import { candidateCommits, goodCheckRuns, pickTests, presenceAt, runSizes, scoreCandidate, type ScoredCandidate } from "./bayes-choose.js";
import { CONFIDENCE_TARGET, batchBudget, signaturesContradicted, verifyCulprit, verifyEverywhere } from "./bayes-stop.js";
import { aboveRelease, findGoodEnd, searchedRange, type GoodEnd } from "./goodEnd.js";
import { hungAlike } from "./hangs.js";
import { maskEdgeToTest, maskedStretchFound } from "./maskEdge.js";
import { startCrashesNote } from "./startCrashes.js";

/** Below this many expected bits per batch nothing is worth testing any more. */
const MIN_BITS = 0.004;
/** How many times the start runs we spend before saying the crash does not reproduce. */
const START_ATTEMPTS = 3;
/** ...and at least this many runs: enough to see a 5%-chance bug twice four times out of five. */
const START_MIN_TRIES = 60;

export const bayesStrategy: Strategy = {
  name: "culprit",
  next: (problem, observations, inFlight) => nextStep(problem, observations, DEFAULT_LIMITS, inFlight),
};

function test(tests: TestRequest[], notes: Note[]): Step {
  return { kind: "test", tests, notes };
}

function done(result: StrategyResult, notes: Note[]): Step {
  return { kind: "done", result, notes };
}

/** A remedy worth applying: other crashes of a type it removes mask the target somewhere, and it leaves the target alone. */
export function remedyToApply(
  rules: readonly RemedyRule[],
  groups: readonly EvidenceGroup[],
  target: CrashSummary,
  active: readonly string[],
): string | undefined {
  for (const group of groups) {
    const { masked, target: hits, clean } = group.current;
    if (masked < 3 || masked < hits + clean) continue;
    const types = [...group.maskingTypes.entries()].sort((a, b) => b[1] - a[1]);
    for (const [type] of types) {
      const rule = rules.find(
        (r) => r.removesTypes.includes(type) && !r.removesTypes.includes(target.type) && !active.includes(r.name),
      );
      if (rule) return rule.name;
    }
  }
  return undefined;
}

/** Share of runs that say something about the target (not masked, not unusable), Laplace-smoothed. */
function informativeShare(group: EvidenceGroup | undefined, fallback: number): number {
  if (!group) return fallback;
  const c = group.current;
  const total = c.target + c.clean + c.masked + c.unusable;
  if (total < 5) return fallback;
  return (c.target + c.clean + 1) / (total + 2);
}

function globalShare(evidence: Evidence): number {
  let informative = 0;
  let total = 0;
  for (const g of evidence.groups) {
    const c = g.current;
    informative += c.target + c.clean;
    total += c.target + c.clean + c.masked + c.unusable;
  }
  return total < 5 ? 0.9 : (informative + 1) / (total + 2);
}

/** Builds plus runs in units of a full batch: counted in runs, so smaller requests spend less of it. */
function batchesSpent(observations: readonly Observation[], runsPerCommit: number): number {
  let batches = 0;
  for (const o of observations) batches += (o.build ? 1 : 0) + o.runs.length / Math.max(1, runsPerCommit);
  return batches;
}

function describeHypothesis(dag: Dag, post: Posterior, h: number): string {
  if (h === post.everywhere) return post.kind === "cause" ? "older than the range" : "never fixed";
  if (h === post.nowhere) return "start crash was a flake";
  return dag.hash(h);
}

function inconclusive(problem: BisectProblem, post: Posterior, why: string, notes: Note[], evidence: Evidence, ownCounts: (commit: number) => EvidenceCounts | undefined): Step {
  const dag = problem.graph;
  const set = credibleAnswer(post);
  const commits = withEqualBuilds(dag, evidence, ownCounts, set.filter((h) => h < post.n));
  const covered = set.reduce((s, h) => s + (post.mass[h] as number), 0);
  notes.push({ kind: "info", text: why });
  if (commits.length === 0) {
    const top = set[0] ?? post.everywhere;
    return done(noCulprit(problem, post, top, covered), notes);
  }
  const confidence = commits.reduce((s, h) => s + (post.mass[h] as number), 0);
  return done({ outcome: "inconclusive", candidates: commits.map((c) => dag.hash(c)), confidence }, notes);
}

/**
 * The candidates, and after each the descendants that built to its binary where that binary's
 * commits behaved differently in their own runs (one showed the target, another only clean runs).
 * Equal builds are taken to behave alike, so the posterior gives such a child no chance of being
 * the culprit; but a change outside the declared artifacts (unseen-2's worlds 28 and 35, too rare a
 * reproducer to prove the difference) builds to its parent's binary, and a list that named the
 * parent without it would point the reader away from the culprit.
 */
function withEqualBuilds(dag: Dag, evidence: Evidence, ownCounts: (commit: number) => EvidenceCounts | undefined, commits: readonly number[]): number[] {
  const listed = new Set(commits);
  const out = [...commits];
  const differs = (group: number): boolean => {
    const own = (evidence.groups[group]?.members ?? []).map(ownCounts);
    return own.some((c) => (c?.target ?? 0) > 0) && own.some((c) => c !== undefined && c.target === 0 && c.clean > 0);
  };
  for (let i = 0; i < out.length; i++) {
    const c = out[i] as number;
    const group = evidence.groupOf.get(c);
    if (group === undefined || !differs(group)) continue;
    for (const child of dag.children[c] as readonly number[]) {
      if (listed.has(child) || evidence.groupOf.get(child) !== group) continue;
      listed.add(child);
      out.push(child);
    }
  }
  return out;
}

/** The hypotheses an answer without a culprit names: the credible set, with its ties. */
function credibleAnswer(post: Posterior): number[] {
  return withTies(post.mass, credibleSet(post.mass, CONFIDENCE_TARGET));
}

/** The credible set and every hypothesis as probable as its least one: a flat stretch (all masked,
 *  all broken) is answered whole, not cut wherever the mass happens to reach the target. */
function withTies(mass: Float64Array, set: readonly number[]): number[] {
  let least = Infinity;
  for (const h of set) least = Math.min(least, mass[h] as number);
  const chosen = new Set(set);
  const ties: number[] = [];
  for (let h = 0; h < mass.length; h++) if (!chosen.has(h) && (mass[h] as number) >= least * (1 - 1e-9)) ties.push(h);
  return [...set, ...ties];
}

function noCulprit(problem: BisectProblem, post: Posterior, h: number, confidence: number): StrategyResult {
  if (h === post.nowhere) {
    return { outcome: "no-culprit", reason: "not-in-range", detail: "the start commit's crash was a flake", confidence };
  }
  if (post.kind === "fix") return { outcome: "no-culprit", reason: "oldest-crashes", detail: "the newest commit of the range still crashes", confidence };
  const range = searchedRange(problem);
  const detail = {
    good: `the crash is already there at the good commit ${range.oldest.join(" ")}`,
    release: `the crash is already there at release ${range.tag ?? ""}`,
    oldest: `the crash is already there at the oldest commit allowed (${range.oldest.join(" ")})`,
    roots: "the crash is already there at the repository's first commits",
    range: "the bug predates the oldest commit of the range",
  }[range.bound];
  return { outcome: "no-culprit", reason: "not-in-range", detail, confidence };
}

/** Present at the oldest commit of a history that starts there: that first commit brought the bug. */
function firstCommitCulprit(problem: BisectProblem, confidence: number): StrategyResult | undefined {
  const range = searchedRange(problem);
  const root = range.oldest[0];
  if (problem.kind !== "cause" || range.bound !== "roots" || range.oldest.length !== 1 || root === undefined) return undefined;
  return { outcome: "culprit", culprit: root, confidence };
}

/** Target crashes the start commit must show before bisecting: one could be a flake. */
const START_HITS = 2;

interface Choice {
  dag: Dag;
  problem: BisectProblem;
  post: Posterior;
  evidence: Evidence | undefined;
  remedies: string[];
  slots: number;
  untestable: (c: number) => boolean;
  /** A found good end: the clean side of the range's roots, worth testing again. */
  boundary?: number;
  /** Commits being tested now. */
  pending?: readonly number[];
}

/** Predicted share of informative runs at an untested commit: broken and masked stretches are contiguous, so ask its tested neighbours. */
function predictedShare(evidence: Evidence | undefined, testedOrder: readonly number[], c: number, fallback: number): number {
  if (!evidence) return fallback;
  const own = evidence.groups[evidence.groupOf.get(c) ?? -1];
  if (own) return informativeShare(own, fallback);
  // testedOrder is sorted; find the nearest tested commit on each side.
  let lo = 0;
  let hi = testedOrder.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((testedOrder[mid] as number) < c) lo = mid + 1;
    else hi = mid;
  }
  const below = testedOrder[lo - 1];
  const above = testedOrder[lo];
  const shareOf = (x: number): number => informativeShare(evidence.groups[evidence.groupOf.get(x) ?? -1], fallback);
  if (below === undefined || above === undefined) {
    // Past the last tested commit on one side: a broken or masked stretch there goes on.
    const only = below ?? above;
    if (only === undefined) return fallback;
    const share = shareOf(only);
    return share < 0.2 ? share : fallback;
  }
  const [low, high] = [shareOf(below), shareOf(above)];
  if (Math.max(low, high) < 0.2) return Math.max(low, high);
  if (Math.min(low, high) >= 0.2) return fallback;
  // One side is broken or masked, the other not: the stretch ends somewhere between, so the
  // nearer a commit is to the usable side, the likelier it is usable too.
  const along = (c - below) / (above - below);
  return low + (high - low) * along;
}

function chooseTests(choice: Choice): ScoredCandidate[] {
  const { dag, problem, post, evidence, remedies } = choice;
  const runsPerCommit = Math.max(1, problem.runsPerCommit);
  const costBuild = problem.cost?.build ?? 1;
  // A batch of runsPerCommit runs takes its waves one after another; fewer waves cost less.
  const sizes = runSizes(runsPerCommit, problem.runsAtOnce ?? runsPerCommit);
  const waves = (runs: number): number => Math.ceil(runs / Math.max(1, sizes[0] as number));
  const costWave = (problem.cost?.testBatch ?? 1) / waves(runsPerCommit);
  const fallback = evidence ? globalShare(evidence) : 0.9;
  const tested = evidence ? [...evidence.groupOf.keys()].sort((a, b) => a - b) : [];
  const scored: ScoredCandidate[] = [];
  const quantiles = 12 + 4 * choice.slots;
  const extra = [0, dag.index(problem.start), ...(choice.boundary === undefined ? [] : [choice.boundary])];
  for (const c of candidateCommits(dag, post, quantiles, extra)) {
    if (choice.untestable(c) || choice.pending?.includes(c)) continue;
    const share = predictedShare(evidence, tested, c, fallback);
    const costBuilt = evidence?.built.has(builtKey(c, remedies)) ? 0 : costBuild;
    const options = sizes.map((runs) => ({ runs, informative: Math.round(runs * share), cost: costBuilt + waves(runs) * costWave }));
    // Any batch may be dead; a commit asked before also answers only what its own runs leave open
    // (a chance of its own). Dead batches discount every commit alike: discounting only those asked
    // before sent the search to fresh commits and their builds (seed 7's batch-failure worlds).
    const seen = evidence?.groups[evidence.groupOf.get(c) ?? -1]?.current;
    const asked = seen !== undefined && seen.target + seen.clean > 0;
    const context = { spread: asked ? post.spread : 0, target: seen?.target ?? 0, clean: seen?.clean ?? 0, ...(runsPerCommit > 1 ? { batchFailure: post.batchFailure } : {}) };
    scored.push(scoreCandidate(dag, post, c, options, context));
  }
  return pickTests(post, scored, choice.slots, MIN_BITS, (choice.pending ?? []).map((c) => cachedAncestry(dag, c)));
}

/**
 * The user's good commit, tested right after the start as syzbot does, while it has no runs under
 * these remedies and none are on their way: when it crashes too, every build spent bisecting
 * towards it would be wasted (Lua's vardesc-realloc with v5.4-alpha). `runs`: a batch before the
 * start's runs are read, then as many whole waves as `goodCheckRuns` says. Cause bisections only:
 * a fix bisection's end is where the search starts anyway.
 */
function goodToTest(problem: BisectProblem, observations: readonly Observation[], remedies: readonly string[], inFlight: readonly TestRequest[], runs = problem.runsPerCommit): TestRequest | undefined {
  const good = problem.good;
  if (problem.kind !== "cause" || good === undefined || good === problem.start || !problem.graph.has(good)) return undefined;
  const key = observationKey(good, remedies);
  const seen = observations.find((o) => observationKey(o.commit, o.remedies) === key);
  if (seen && (seen.runs.length > 0 || seen.build?.kind === "failed")) return undefined;
  if (inFlight.some((r) => observationKey(r.commit, r.remedies) === key)) return undefined;
  return { commit: good, runs: Math.max(1, runs), remedies: [...remedies] };
}

/** Knobs a caller other than the orchestrator may turn (the benchmark lifts the budget to time the choice itself). */
export interface Limits {
  batchBudget: (commits: number) => number;
}

export const DEFAULT_LIMITS: Limits = { batchBudget };

/** `inFlight`: tests started earlier whose answers are still to come (the orchestrator's pipeline). */
export function nextStep(
  problem: BisectProblem,
  observations: readonly Observation[],
  limits: Limits = DEFAULT_LIMITS,
  inFlight: readonly TestRequest[] = [],
): Step {
  const step = searchStep(problem, observations, { limits, trustSignatures: true, inFlight });
  if (step.kind !== "done" || problem.kind !== "cause" || step.result.searched) return step;
  // The start commit's own answers (does not build, does not reproduce) looked at nothing older.
  if (step.result.outcome === "no-culprit" && (step.result.reason === "not-reproduced" || step.result.reason === "untestable")) return step;
  return { ...step, result: { ...step.result, searched: searchedRange(problem) } };
}

/** The target before the start commit's runs name it, where no run is compared with it. */
const UNNAMED_TARGET: CrashSummary = { title: "", alt: [], type: "", frame: "" };

/**
 * Tests for the workers the start commit's first runs leave free, before those runs have named
 * the target: the user's good commit, the newest releases (as the release phase would test them
 * next), or a split of the range on the prior. Nothing here is read against the target, so an
 * unnamed one serves as well as a named one; commits tested or in flight count as asked (a split
 * answered early frees its worker for the next), and their runs are read once the target is known.
 */
function openingTests(problem: BisectProblem, observations: readonly Observation[], inFlight: readonly TestRequest[], remedies: string[]): { tests: TestRequest[]; notes: Note[] } {
  const dag = problem.graph;
  const start = dag.index(problem.start);
  const runs = Math.max(1, problem.runsPerCommit);
  const opening = problem.target ?? UNNAMED_TARGET;
  const asked = new Set([...observations, ...inFlight].map((o) => o.commit).filter((c) => c !== problem.start && dag.has(c)));
  const flying = new Set(inFlight.map((r) => r.commit).filter((c) => c !== problem.start));
  let free = Math.max(1, problem.parallelism) - 1 - flying.size;
  const tests: TestRequest[] = [];
  const good = goodToTest(problem, observations, remedies, inFlight);
  if (good && free > 0) {
    tests.push(good);
    asked.add(good.commit);
    free--;
  }
  if (free <= 0) return { tests, notes: [] };
  if (observations.length === 0 && inFlight.length === 0) {
    const releases = findGoodEnd(problem, [], opening, problem.sameCrash, remedies, free);
    if (releases.kind === "test") return { tests: [...tests, ...releases.tests], notes: releases.notes };
  } else if (findGoodEnd(problem, [], opening, problem.sameCrash, remedies, 1).kind === "test") {
    // The release phase reads each answer before asking the next: it waits for the target.
    return { tests, notes: [] };
  }
  const empty = gatherEvidence(dag, [], opening, problem.sameCrash, remedies);
  const prior = computePosterior(dag, problem.kind, empty, baseRoot(dag, problem.kind, start, problem.good));
  const pending = [...asked].map((c) => dag.index(c));
  const picks = chooseTests({ dag, problem, post: prior, evidence: undefined, remedies, slots: free, untestable: () => false, pending })
    .filter((s) => s.commit !== start)
    .map((s) => ({ commit: dag.hash(s.commit), runs, remedies }));
  return { tests: [...tests, ...picks], notes: [] };
}

/**
 * Workers the release phase leaves free (fewer releases open than workers) split the range above
 * the oldest release still open, beside the releases being tested: unless that release crashes
 * too, the culprit lies there, and those runs count once the good end is found.
 */
function besideReleases(
  problem: BisectProblem,
  observations: readonly Observation[],
  target: CrashSummary,
  grading: Grading,
  remedies: string[],
  end: Extract<GoodEnd, { kind: "test" }>,
  inFlight: readonly TestRequest[],
): TestRequest[] {
  const asked = new Set([...inFlight, ...end.tests].map((r) => r.commit));
  const free = Math.max(1, problem.parallelism) - asked.size;
  if (free <= 0) return [];
  const narrowed = aboveRelease(problem, end.oldestOpen);
  const dag = narrowed.graph;
  const evidence = gatherEvidence(dag, observations, target, problem.sameCrash, remedies, grading);
  const post = computePosterior(dag, narrowed.kind, evidence, baseRoot(dag, narrowed.kind, dag.index(narrowed.start), narrowed.good));
  const pending = [...asked].filter((c) => dag.has(c)).map((c) => dag.index(c));
  const untestable = (c: number): boolean => evidence.buildFailed.has(c);
  return chooseTests({ dag, problem: narrowed, post, evidence, remedies, slots: free, untestable, pending })
    .filter((s) => s.commit !== dag.index(narrowed.start))
    .map((s) => ({ commit: dag.hash(s.commit), runs: Math.max(1, problem.runsPerCommit), remedies }));
}

/** `trustSignatures` false: equal build signatures share no evidence (they were seen to behave differently). */
interface Search {
  limits: Limits;
  /** False: equal build signatures share no evidence (they were seen to behave differently). */
  trustSignatures: boolean;
  /** A good end the search found (a release that tested clean), not one the user gave: a culprit
   *  whose parents lie outside the range stands on its clean runs. */
  boundary?: string;
  inFlight: readonly TestRequest[];
}

function searchStep(problem: BisectProblem, observations: readonly Observation[], search: Search): Step {
  const { limits, trustSignatures, boundary } = search;
  const dag = problem.graph;
  const notes: Note[] = [];
  const start = dag.index(problem.start);
  const startObs = observations.filter((o) => o.commit === problem.start);
  const startRunList = startObs.flatMap((o) => o.runs);
  const remediesSoFar = appliedRemedies(observations);
  const runsPerCommit = Math.max(1, problem.runsPerCommit);
  const startRuns = Math.max(1, problem.startRuns);
  const slots = Math.max(1, problem.parallelism);
  if (startObs.some((o) => o.build?.kind === "failed")) {
    return done({ outcome: "no-culprit", reason: "untestable", detail: "the start commit does not build", confidence: 1 }, notes);
  }
  if (startRunList.length === 0) {
    // One batch is enough to start: the start commit is tested again whenever its evidence is
    // worth a batch, or while its runs do not yet name the target clearly.
    const first: TestRequest = { commit: problem.start, runs: runsPerCommit, remedies: remediesSoFar };
    const opening = openingTests(problem, observations, search.inFlight, remediesSoFar);
    return test([first, ...opening.tests], [...notes, ...opening.notes]);
  }
  // A target named by title only learns its stack (and its type, when the title did not say it)
  // from the first run that shows it; until its type is known, no remedy is chosen (it could
  // remove the target's own type).
  const learnt = problem.target && learnTarget(problem.target, observations, problem.sameCrash);
  const target = learnt ?? problem.target ?? startTarget(startRunList, startRunList.length >= startRuns);
  if (!target) {
    if (startRunList.length < START_ATTEMPTS * startRuns) {
      const more = startRunList.length < startRuns ? startRuns - startRunList.length : startRuns;
      const again: TestRequest = { commit: problem.start, runs: more, remedies: remediesSoFar };
      // Once a full start batch came back without a crash the start may not reproduce at all:
      // the other workers wait for its retries instead of splitting a range that may not matter.
      if (startRunList.length >= startRuns) return test([again], notes);
      const opening = openingTests(problem, observations, search.inFlight, remediesSoFar);
      return test([again, ...opening.tests], [...notes, ...opening.notes]);
    }
    return done({ outcome: "no-culprit", reason: "not-reproduced", detail: `no crash in ${startRunList.length} runs of the start commit`, confidence: 1 }, notes);
  }
  if (observations.length === 1) notes.push({ kind: "target", crash: target });
  const several = startCrashesNote(startRunList, target, problem.sameCrash);
  if (several) notes.push(several);

  const grading = { ...(problem.similarity ? { similarity: problem.similarity } : {}), batchSize: runsPerCommit, trustSignatures };
  let evidence = gatherEvidence(dag, observations, target, problem.sameCrash, remediesSoFar, grading);
  const typeKnown = !problem.target || problem.target.type !== "" || learnt !== undefined;
  const remedy = typeKnown ? remedyToApply(problem.remedies ?? [], evidence.groups, target, remediesSoFar) : undefined;
  if (remedy) {
    notes.push({ kind: "info", text: `other crashes mask the target: building with ${remedy} from now on` });
    evidence = gatherEvidence(dag, observations, target, problem.sameCrash, [...remediesSoFar, remedy].sort(), grading);
  }
  const remedies = evidence.activeRemedies;
  for (const [title, runs] of evidence.related) {
    if (runs >= 2) notes.push({ kind: "info", text: `"${title}" is taken for the target under another title (same type, shared stack): the title drifted along the range` });
  }
  const base = baseRoot(dag, problem.kind, start, problem.good);
  const boundaryIndex = boundary !== undefined && dag.has(boundary) ? dag.index(boundary) : undefined;

  const startGroup = evidence.groups[evidence.groupOf.get(start) ?? -1];
  const startHits = startGroup?.counts.target ?? 0;
  // A user who asks for a single start run accepts one crash as the start's evidence.
  if (startHits < Math.min(START_HITS, startRuns)) {
    // Masked runs are censored: only runs that could have shown the target count as tries,
    // within a hard cap on all runs for a start commit that other crashes nearly always win.
    const tried = startHits + (startGroup?.counts.clean ?? 0);
    const all = tried + (startGroup?.counts.masked ?? 0) + (startGroup?.counts.unusable ?? 0);
    const tries = Math.max(START_ATTEMPTS * startRuns, START_MIN_TRIES);
    if (tried < tries && all < 5 * tries) {
      return test([{ commit: problem.start, runs: runsPerCommit, remedies }], notes);
    }
    // Too rare to bisect within any sane budget; the confidence is what the evidence says about "no bug here".
    const post = computePosterior(dag, problem.kind, evidence, base);
    const detail = `the target crashed ${startHits} times in ${all} runs of the start commit (${tried} not masked): too rare to bisect`;
    return done({ outcome: "no-culprit", reason: "not-reproduced", detail, confidence: post.mass[post.nowhere] as number }, notes);
  }

  // The start's runs say how often the target fires: a reliable one needs a wave, not a batch, to show.
  const goodRuns = goodCheckRuns(runSizes(runsPerCommit, problem.runsAtOnce ?? runsPerCommit), startHits, startHits + (startGroup?.counts.clean ?? 0));
  const good = goodToTest(problem, observations, remedies, search.inFlight, goodRuns);
  if (good) {
    notes.push({ kind: "info", text: `testing the good commit ${good.commit} before bisecting towards it` });
    return test([good], notes);
  }

  const end = findGoodEnd(problem, observations, target, problem.sameCrash, remedies, slots);
  switch (end.kind) {
    case "test": {
      const beside = besideReleases(problem, observations, target, grading, remedies, end, search.inFlight);
      return test([...end.tests, ...beside], [...notes, ...end.notes]);
    }
    case "clean": {
      const inner = searchStep(aboveRelease(problem, end.release), observations, { ...search, boundary: end.release.commit });
      const all = [...notes, ...end.notes, ...inner.notes];
      if (inner.kind === "test") return test(inner.tests, all);
      return done({ ...inner.result, searched: { bound: "release", oldest: [end.release.commit], tag: end.release.tag } }, all);
    }
    case "older":
      notes.push(...end.notes);
      break;
    case "given":
      break;
  }

  const post = computePosterior(dag, problem.kind, evidence, base);
  const top = topHypothesis(post.mass);
  const topMass = post.mass[top] as number;
  notes.push({
    kind: "info",
    text: `leading: ${describeHypothesis(dag, post, top)} (${(topMass * 100).toFixed(1)}%), repro chance ≈ ${reproChanceGiven(post, top).toFixed(2)}`,
  });

  const ownCounts = (c: number): EvidenceCounts | undefined => {
    const hash = dag.hash(c);
    const own = observations.find((o) => o.commit === hash && o.remedies.join(",") === remedies.join(","));
    return own && own.runs.length > 0 ? countEvidence(own.runs, target, problem.sameCrash, problem.similarity) : undefined;
  };
  const ownRuns = (c: number): RunOutcome[] => {
    const hash = dag.hash(c);
    return observations.find((o) => o.commit === hash && o.remedies.join(",") === remedies.join(","))?.runs ?? [];
  };
  const untestable = (c: number): boolean => {
    if (evidence.buildFailed.has(c)) return true;
    const group = evidence.groups[evidence.groupOf.get(c) ?? -1];
    if (!group) return false;
    const cur = group.current;
    const total = cur.target + cur.clean + cur.masked + cur.unusable;
    const informative = cur.target + cur.clean;
    // A full batch that never booted (or never reached the test), or two batches where nearly
    // everything was masked: that commit cannot be judged; don't guess.
    if (informative === 0 && cur.unusable >= runsPerCommit) return true;
    // Runs that all hung alike end their batch early (the orchestrator stops it): more would hang too.
    if (informative === 0 && hungAlike(ownRuns(c), target, problem.sameCrash)) return true;
    return total >= 2 * runsPerCommit && informative / total < 0.1;
  };

  // Equal builds behaved differently: the crash depends on something the declared artifacts
  // miss, so every commit stands on its own runs from here on.
  const distrustSignatures = (): Step => {
    const own = searchStep(problem, observations, { ...search, trustSignatures: false });
    const note: Note = {
      kind: "info",
      text: "commits with the same build signature behaved differently: the crash depends on something the declared artifacts do not cover; judging every commit by its own runs",
    };
    return own.kind === "test" ? test(own.tests, [...notes, note, ...own.notes]) : done(own.result, [...notes, note, ...own.notes]);
  };
  if (trustSignatures && signaturesContradicted(evidence, ownCounts, reproChanceGiven(post, top), runsPerCommit)) return distrustSignatures();

  if (topMass >= CONFIDENCE_TARGET) {
    const verdict =
      top === post.nowhere
        ? ({ kind: "verified" } as const)
        : top === post.everywhere
          ? verifyEverywhere(dag, problem.kind, evidence, untestable, ownCounts)
          : verifyCulprit(dag, problem.kind, evidence, top, reproChanceGiven(post, top), untestable, ownCounts, runsPerCommit, post.spread, boundaryIndex, post.batchFailure);
    // A clean side that crashed is tested again (up to three batches): the target there means the culprit is older.
    const recheck = (c: number): boolean => (evidence.groups[evidence.groupOf.get(c) ?? -1]?.batches.length ?? 0) < 3;
    switch (verdict.kind) {
      case "verified": {
        if (top === post.everywhere) {
          const root = firstCommitCulprit(problem, topMass);
          if (root) return done(root, notes);
        }
        if (top >= post.n) return done(noCulprit(problem, post, top, topMass), notes);
        const parent = (dag.parents[top] as readonly number[])[0];
        const result: StrategyResult =
          parent === undefined
            ? { outcome: "culprit", culprit: dag.hash(top), confidence: topMass }
            : { outcome: "culprit", culprit: dag.hash(top), parent: dag.hash(parent), confidence: topMass };
        return done(result, notes);
      }
      case "test": {
        // A check of a commit's own behaviour, on top of pooled evidence that already suffices, takes half a batch.
        const runsFor = (c: number): number => (verdict.ownOnly?.includes(c) ? Math.ceil(runsPerCommit / 2) : runsPerCommit);
        const tests: TestRequest[] = verdict.commits.map((c) => ({ commit: dag.hash(c), runs: runsFor(c), remedies }));
        // A built side that lacks several batches gets them on several workers at once, counting those in flight.
        verdict.commits.forEach((c, i) => {
          if (!evidence.built.has(builtKey(c, remedies))) return;
          const key = observationKey(dag.hash(c), remedies);
          const flying = search.inFlight.filter((r) => observationKey(r.commit, r.remedies) === key).reduce((s, r) => s + Math.ceil(r.runs / runsPerCommit), 0);
          for (let k = Math.max(1, flying); k < (verdict.batches?.[i] ?? 1); k++) tests.push({ commit: dag.hash(c), runs: runsPerCommit, remedies, alongside: true });
        });
        notes.push({ kind: "info", text: `verifying ${describeHypothesis(dag, post, top)}` });
        return test(tests, notes);
      }
      case "impossible":
        // Cannot verify: keep looking while anything is informative, else say inconclusive.
        break;
      case "clean-side-crashed": {
        const again = verdict.commits.filter((c) => recheck(c) && !untestable(c));
        if (again.length > 0) {
          notes.push({ kind: "info", text: `${describeHypothesis(dag, post, top)}'s clean side showed the target: testing it again` });
          return test(again.slice(0, slots).map((c) => ({ commit: dag.hash(c), runs: runsPerCommit, remedies })), notes);
        }
        notes.push({ kind: "info", text: "a commit on the clean side of the leading culprit showed the target: no culprit can be verified there" });
        const candidates = [top, ...verdict.commits].sort((a, b) => b - a).map((c) => dag.hash(c));
        return done({ outcome: "inconclusive", candidates, confidence: topMass }, notes);
      }
      case "contradiction":
        return distrustSignatures();
    }
  }

  // Tests in flight are answers already on their way: the new ones ask what those do not.
  const pending = search.inFlight.filter((r) => dag.has(r.commit)).map((r) => dag.index(r.commit));

  // Below the oldest commit that showed the target, a tested commit crashed first with another
  // crash on every run: the posterior cannot tell masked candidates apart (each masked run says
  // nothing), and creeps from the masked side one quantile at a time until the budget is spent.
  // Where the masking ends is what the answer needs (the first bad commit is there or older), and
  // halving finds it in a few steps: it goes first, before the budget is counted (maskEdge.ts).
  if (problem.kind === "cause") {
    const active = observations.filter((o) => o.remedies.join(",") === remedies.join(","));
    const candidates = credibleAnswer(post).filter((h) => h < post.n);
    const edge = maskEdgeToTest(dag, candidates, active, target, problem.sameCrash);
    if (edge !== undefined && !untestable(edge) && !pending.includes(edge)) {
      notes.push({ kind: "info", text: "the candidates are masked below the oldest commit that showed the target: searching where the masking ends" });
      return test([{ commit: dag.hash(edge), runs: runsPerCommit, remedies }], notes);
    }
    if (edge === undefined && maskedStretchFound(dag, candidates, active, target, problem.sameCrash)) {
      return inconclusive(problem, post, "where the masking ends is found, and every older commit tested was masked: nothing older can show the target", notes, evidence, ownCounts);
    }
  }

  // The budget bounds the wait, so work spread over idle workers counts once per step.
  if (batchesSpent(observations, runsPerCommit) / slots >= limits.batchBudget(dag.size)) {
    return inconclusive(problem, post, "test budget spent", notes, evidence, ownCounts);
  }

  const free = Math.max(1, slots - pending.length);
  const picked = chooseTests({ dag, problem, post, evidence, remedies, slots: free, untestable, boundary: boundaryIndex, pending });
  if (picked.length === 0) {
    // What is still worth asking is being asked: wait for those answers.
    if (pending.length > 0) return test([], notes);
    return inconclusive(problem, post, "no test left that would tell the candidates apart", notes, evidence, ownCounts);
  }
  const last = observations[observations.length - 1];
  if (last && dag.has(last.commit)) {
    const w = presenceAt(post, cachedAncestry(dag, dag.index(last.commit))).w;
    // "bad" = the target crash is there, as the log has always said it.
    if (w > 0.99 || w < 0.01) notes.push({ kind: "verdict", commit: last.commit, verdict: w > 0.99 ? "bad" : "good" });
  }
  return test(
    picked.map((s) => ({ commit: dag.hash(s.commit), runs: s.runs, remedies })),
    notes,
  );
}
