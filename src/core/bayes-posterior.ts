// The posterior over "which commit is the culprit" (plus "bug older than the range / never
// fixed" and "the start crash was a flake"), jointly with the unknown reproduction chance p.
// p is marginalised over a small grid, so a low chance is never ruled out by a lucky streak.

import { cachedAncestry, type Dag } from "./dag.js";
import type { BisectKind } from "./strategy.js";
import { BATCH_FAILURE_GRID, type BatchCounts, type Evidence, type EvidenceGroup } from "./bayes-evidence.js";

/** Reproduction chances considered; denser at the low end, where mistakes are costly. */
export const REPRO_GRID: readonly number[] = [0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97, 0.999];
/** Share of the prior on a deterministic crash (0.999): many reproducers always crash, and a single clean run then says "absent". */
const DETERMINISTIC = 0.25;
/** Prior over the grid ∝ (1-p) below it: errs toward a low chance, which makes noisy bisection careful. */
export const REPRO_PRIOR: readonly number[] = [
  ...normalise(REPRO_GRID.slice(0, -1).map((p) => 1 - p)).map((w) => w * (1 - DETERMINISTIC)),
  DETERMINISTIC,
];
/** Chance that the target's title shows up where the bug is absent (mis-attribution, a flake). */
export const SPURIOUS = 5e-4;
/** Prior of "present everywhere" (cause: older than the range; fix: never fixed). */
export const PRIOR_EVERYWHERE = 0.08;
/** Prior of "present nowhere": the start commit's crash was a flake. */
export const PRIOR_NOWHERE = 0.02;
/** Log-likelihood given to hypotheses that contradict equal signatures (same binary, same behaviour). */
const CONTRADICTION = -60;

function normalise(xs: readonly number[]): number[] {
  const total = xs.reduce((a, b) => a + b, 0);
  return xs.map((x) => x / total);
}

export interface Posterior {
  kind: BisectKind;
  /** Commit hypotheses are 0..n-1 (Dag indices); `everywhere` = n, `nowhere` = n+1. */
  n: number;
  everywhere: number;
  nowhere: number;
  /** joint[h * G + g] = P(hypothesis h, chance REPRO_GRID[g] | evidence). */
  joint: Float64Array;
  /** mass[h] = P(h | evidence). */
  mass: Float64Array;
  /** P(chance = REPRO_GRID[g] | evidence). */
  chance: Float64Array;
  /** Learnt share of commits whose chance is their own (0 = one chance for the whole range). */
  spread: number;
  /** P(batch-failure rate = BATCH_FAILURE_GRID[i] | evidence), learnt jointly with the culprit. */
  batchFailure: Float64Array;
}

/** Log-likelihood of `target` target runs and `clean` clean runs when the bug is present with chance p. */
export function presentLogLikelihood(target: number, clean: number, p: number): number {
  return target * Math.log(p) + clean * Math.log1p(-p);
}

export function absentLogLikelihood(target: number, clean: number): number {
  return target * Math.log(SPURIOUS) + clean * Math.log1p(-SPURIOUS);
}

/** Log-likelihood of a commit's batches when the bug is present with chance p and a whole batch fails (shows nothing) with chance beta. */
export function batchesLogLikelihood(batches: readonly BatchCounts[], p: number, beta: number): number {
  let ll = 0;
  const alive = Math.log1p(-beta);
  for (const b of batches) {
    const shown = alive + presentLogLikelihood(b.target, b.clean, p);
    ll += b.target > 0 ? shown : Math.log(Math.exp(shown) + beta);
  }
  return ll;
}

/**
 * One group's present log-likelihood at every (batch-failure rate, chance): `ll[r][g]` for the
 * r-th rate of `rates`. A group whose every batch showed the target (or said nothing) is
 * separable: its likelihood at rate β is the one at β = 0 plus `shown`·log(1 − β), so it needs no
 * table of its own per rate. A batch without the target but with clean runs is not: it is either
 * the chance or a dead batch.
 */
interface GroupLikelihood {
  ll: Float64Array[];
  separable: boolean;
  /** Batches that showed the target. */
  shown: number;
}

function groupLikelihood(group: EvidenceGroup, rates: readonly number[]): GroupLikelihood {
  const { target, clean } = group.counts;
  const zero = Float64Array.from(REPRO_GRID, (p) => presentLogLikelihood(target, clean, p));
  let shown = 0;
  let separable = true;
  for (const b of group.batches) {
    if (b.target > 0) shown++;
    else if (b.clean > 0) separable = false;
  }
  const ll = rates.map((beta) => {
    if (beta === 0) return zero;
    if (separable) return zero.map((v) => v + shown * Math.log1p(-beta));
    return Float64Array.from(REPRO_GRID, (p) => batchesLogLikelihood(group.batches, p, beta));
  });
  return { ll, separable, shown };
}

/** log Σ_g prior(g)·exp(ll[g]): a commit's likelihood under a chance of its own. */
function ownMarginal(ll: Float64Array): number {
  const max = Math.max(...ll);
  let sum = 0;
  ll.forEach((v, g) => (sum += (REPRO_PRIOR[g] as number) * Math.exp(v - max)));
  return max + Math.log(sum);
}

/** Shares of commits whose chance differs from the range's (drawn afresh from the prior), and their prior. */
export const CHANCE_SPREAD_GRID: readonly number[] = [0, 0.1, 0.25, 0.5];
const CHANCE_SPREAD_PRIOR: readonly number[] = [0.7, 0.1, 0.1, 0.1];

/**
 * How much the reproduction chance differs from commit to commit (a hierarchical prior: each
 * commit has the range's chance, or with probability ε one of its own), learnt from the commits
 * that showed the target, each with the batch-failure rate marginalised under `ratePrior` (log
 * weights of `likelihoods[i].ll`). None until the evidence says so: then the posterior mean of ε.
 */
export function chanceSpread(likelihoods: readonly GroupLikelihood[], logRatePrior: readonly number[]): number {
  const present = likelihoods.map(({ ll: byRate }) => {
    const ll = Float64Array.from(REPRO_GRID, (_, g) => logSumExp(byRate.map((l, r) => (logRatePrior[r] as number) + (l[g] as number))));
    return { ll, own: ownMarginal(ll) };
  });
  if (present.length < 2) return 0;
  const E = CHANCE_SPREAD_GRID.length;
  const logL = new Float64Array(E);
  for (let e = 0; e < E; e++) {
    const eps = CHANCE_SPREAD_GRID[e] as number;
    const perG = REPRO_GRID.map((_, g) => {
      let l = Math.log(REPRO_PRIOR[g] as number);
      // Relative to the commit's own marginal, so long runs of evidence do not underflow.
      for (const x of present) l += Math.log((1 - eps) * Math.exp(Math.min(700, (x.ll[g] as number) - x.own)) + eps);
      return l;
    });
    logL[e] = Math.log(CHANCE_SPREAD_PRIOR[e] as number) + ownMarginal(Float64Array.from(perG, (v, g) => v - Math.log(REPRO_PRIOR[g] as number)));
  }
  const max = Math.max(...logL);
  const w = logL.map((v) => Math.exp(v - max));
  const total = w.reduce((a, v) => a + v, 0);
  if ((w[0] as number) / total >= 0.5) return 0;
  return w.reduce((a, v, e) => a + (v / total) * (CHANCE_SPREAD_GRID[e] as number), 0);
}

/**
 * Which commits may be the culprit a priori: every commit but the base root. A root other than
 * the base (a topic branch based on an older commit, its parent outside the range) is a candidate
 * whose parent side is the boundary, known good by assumption; the base root (where the first
 * parents from the start end) cannot be told apart from "present everywhere".
 * Without a base every root is left out.
 */
export function commitPrior(dag: Dag, base?: number): Float64Array {
  const n = dag.size;
  const prior = new Float64Array(n);
  const eligible = (i: number): boolean => (dag.parents[i] as readonly number[]).length > 0 || (base !== undefined && i !== base);
  let count = 0;
  for (let i = 0; i < n; i++) if (eligible(i)) count++;
  const each = count > 0 ? (1 - PRIOR_EVERYWHERE - PRIOR_NOWHERE) / count : 0;
  for (let i = 0; i < n; i++) if (eligible(i)) prior[i] = each;
  return prior;
}

/**
 * The root the range is bounded by: cause, the good commit when it is a root of the range, else
 * where first parents from the start end; fix, the start itself. A good commit released from a side
 * line (Lua's v5.4.6) is a root apart from the first-parent one: it is the boundary, known good,
 * while the first-parent root's parent is an ancestor of it, so that root is a candidate like any other.
 */
export function baseRoot(dag: Dag, kind: BisectKind, start: number, good?: string): number {
  if (kind === "fix") return start;
  if (good !== undefined && dag.has(good) && (dag.parents[dag.index(good)] as readonly number[]).length === 0) return dag.index(good);
  let at = start;
  for (;;) {
    const first = (dag.parents[at] as readonly number[])[0];
    if (first === undefined) return at;
    at = first;
  }
}

/**
 * The joint posterior over (hypothesis, chance, batch-failure rate), marginalised over the rate:
 * the rate is learnt from every batch at once, under every hypothesis. A clean batch at a commit
 * is then, for each hypothesis that puts the bug there, as likely as a dead batch is, so a clean
 * side that rests on a batch or two keeps the older hypotheses alive until the rate is known to
 * be low. (Learning the rate only where the bug is already known misses exactly the dead batches
 * that moved the search: those are the commits taken for clean.)
 */
export function computePosterior(dag: Dag, kind: BisectKind, evidence: Evidence, baseRootIndex?: number): Posterior {
  const n = dag.size;
  const G = REPRO_GRID.length;
  // Rates with prior weight: only 0 for batches of one run, and then everything below is the chance-only posterior.
  const rateIndex = [...evidence.batchFailurePrior.keys()].filter((b) => (evidence.batchFailurePrior[b] as number) > 0);
  const rates = rateIndex.map((b) => BATCH_FAILURE_GRID[b] as number);
  const R = rates.length;
  const logRatePrior = rateIndex.map((b) => Math.log(evidence.batchFailurePrior[b] as number));
  const logAlive = rates.map((beta) => Math.log1p(-beta));
  const sign = kind === "cause" ? 1 : -1;
  // acc[c·G + g]: Σ over groups at descendants of c of (present − absent)·sign at rate 0;
  // shownAcc[c]: their batches that showed the target (separable groups move by log(1 − β) each);
  // extra[(c·R + r)·G + g]: what the inseparable groups add at rate r beyond rate 0.
  const acc = new Float64Array(n * G);
  const shownAcc = new Float64Array(n);
  let extra: Float64Array | undefined;
  const base = new Float64Array(R * G);
  const everywhereLL = new Float64Array(R * G);
  let nowhereLL = 0;
  const penalty = new Float64Array(n);
  const likelihoods = evidence.groups.map((group) => groupLikelihood(group, rates));
  const eps = chanceSpread(likelihoods.filter((_, i) => (evidence.groups[i]?.counts.target ?? 0) >= 1), logRatePrior);
  evidence.groups.forEach((group, i) => {
    const { target, clean } = group.counts;
    const rep = group.members[0] as number;
    if (group.members.length > 1) {
      // Commits of one binary behave alike: a culprit between two of them is impossible.
      const count = new Uint16Array(n);
      for (const m of group.members) {
        const anc = cachedAncestry(dag, m);
        for (let c = 0; c < n; c++) count[c] = (count[c] as number) + (anc[c] as number);
      }
      const all = group.members.length;
      for (let c = 0; c < n; c++) {
        const k = count[c] as number;
        if (k > 0 && k < all) penalty[c] = CONTRADICTION;
      }
    }
    if (target + clean === 0) return;
    const absent = absentLogLikelihood(target, clean);
    const { ll, separable, shown } = likelihoods[i] as GroupLikelihood;
    // With spread ε, this commit has the range's chance, or (ε) one of its own.
    const present = ll.map((byChance) => {
      if (eps <= 0) return byChance;
      const own = ownMarginal(byChance);
      return byChance.map((shared) => logAdd(Math.log1p(-eps) + shared, Math.log(eps) + own));
    });
    for (let r = 0; r < R; r++) {
      for (let g = 0; g < G; g++) {
        const p = (present[r] as Float64Array)[g] as number;
        everywhereLL[r * G + g] = (everywhereLL[r * G + g] as number) + p;
        // Cause: present iff the culprit is an ancestor; fix: absent iff it is.
        base[r * G + g] = (base[r * G + g] as number) + (kind === "cause" ? absent : p);
      }
    }
    nowhereLL += absent;
    const zero = present[0] as Float64Array;
    const delta = Float64Array.from(zero, (p) => sign * (p - absent));
    const anc = cachedAncestry(dag, rep);
    if (separable || R === 1) {
      for (let c = 0; c < n; c++) {
        if (!anc[c]) continue;
        const row = c * G;
        for (let g = 0; g < G; g++) acc[row + g] = (acc[row + g] as number) + (delta[g] as number);
        shownAcc[c] = (shownAcc[c] as number) + sign * shown;
      }
      return;
    }
    extra ??= new Float64Array(n * R * G);
    const more = new Float64Array(R * G);
    for (let r = 1; r < R; r++) for (let g = 0; g < G; g++) more[r * G + g] = sign * (((present[r] as Float64Array)[g] as number) - (zero[g] as number));
    for (let c = 0; c < n; c++) {
      if (!anc[c]) continue;
      const row = c * G;
      for (let g = 0; g < G; g++) acc[row + g] = (acc[row + g] as number) + (delta[g] as number);
      const cell = c * R * G;
      for (let k = G; k < R * G; k++) extra[cell + k] = (extra[cell + k] as number) + (more[k] as number);
    }
  });
  const prior = commitPrior(dag, baseRootIndex);
  const H = n + 2;
  const joint = new Float64Array(H * G);
  const logPriorG = REPRO_PRIOR.map(Math.log);
  // Rate r's share of the joint, summed relative to a running maximum so nothing underflows.
  const rateSum = new Float64Array(R);
  let rateMax = -Infinity;
  const addRates = (rates: Float64Array, top: number): void => {
    if (top === -Infinity) return;
    if (top > rateMax) {
      const scale = Math.exp(rateMax - top);
      for (let r = 0; r < R; r++) rateSum[r] = (rateSum[r] as number) * scale;
      rateMax = top;
    }
    const scale = Math.exp(top - rateMax);
    for (let r = 0; r < R; r++) rateSum[r] = (rateSum[r] as number) + (rates[r] as number) * scale;
  };
  // One row of the joint (a hypothesis, every chance), marginalised over the rate: cells[g·R + r]
  // holds its log value at (g, r) on entry; `into[g]` gets the marginal, `rowRate` the row's share
  // of each rate relative to the returned maximum.
  const cells = new Float64Array(G * R);
  const rowRate = new Float64Array(R);
  const marginalise = (into: Float64Array, at: number): number => {
    let top = -Infinity;
    for (let k = 0; k < G * R; k++) if ((cells[k] as number) > top) top = cells[k] as number;
    rowRate.fill(0);
    for (let g = 0; g < G; g++) {
      if (R === 1) {
        into[at + g] = cells[g] as number;
        continue;
      }
      let sum = 0;
      for (let r = 0; r < R; r++) {
        const w = top === -Infinity ? 0 : Math.exp((cells[g * R + r] as number) - top);
        rowRate[r] = (rowRate[r] as number) + w;
        sum += w;
      }
      into[at + g] = top + Math.log(sum);
    }
    return top;
  };
  let jointMax = -Infinity;
  // A commit whose evidence terms equal the previous commit's (no tested commit tells them apart:
  // most of a range between two tested commits) has the same row of the joint: copied, not recomputed.
  let previous = -1;
  let previousTop = -Infinity;
  const sameRow = (c: number): boolean => {
    if (previous < 0 || prior[c] !== prior[previous] || penalty[c] !== penalty[previous] || shownAcc[c] !== shownAcc[previous]) return false;
    for (let g = 0; g < G; g++) if (acc[c * G + g] !== acc[previous * G + g]) return false;
    if (extra) for (let k = 0; k < R * G; k++) if (extra[c * R * G + k] !== extra[previous * R * G + k]) return false;
    return true;
  };
  for (let c = 0; c < n; c++) {
    const pc = prior[c] as number;
    if (pc === 0) continue;
    if (!sameRow(c)) {
      const lp = Math.log(pc) + (penalty[c] as number);
      const shownHere = shownAcc[c] as number;
      for (let g = 0; g < G; g++) {
        const fixed = lp + (logPriorG[g] as number) + (acc[c * G + g] as number);
        for (let r = 0; r < R; r++) {
          const more = extra ? (extra[(c * R + r) * G + g] as number) : 0;
          cells[g * R + r] = fixed + (logRatePrior[r] as number) + (base[r * G + g] as number) + shownHere * (logAlive[r] as number) + more;
        }
      }
      previousTop = marginalise(joint, c * G);
      previous = c;
    } else {
      for (let g = 0; g < G; g++) joint[c * G + g] = joint[previous * G + g] as number;
      previous = c;
    }
    // rowRate still holds this row's shares: the copied row's are the same.
    if (R > 1) addRates(rowRate, previousTop);
    jointMax = Math.max(jointMax, previousTop);
  }
  const lpEverywhere = Math.log(PRIOR_EVERYWHERE);
  const lpNowhere = Math.log(PRIOR_NOWHERE);
  for (const [h, cell] of [
    [n, (g: number, r: number): number => lpEverywhere + (everywhereLL[r * G + g] as number)],
    // Nothing is present anywhere: the rate says nothing.
    [n + 1, (): number => lpNowhere + nowhereLL],
  ] as const) {
    for (let g = 0; g < G; g++) for (let r = 0; r < R; r++) cells[g * R + r] = cell(g, r) + (logPriorG[g] as number) + (logRatePrior[r] as number);
    const top = marginalise(joint, h * G);
    if (R > 1) addRates(rowRate, top);
    for (let g = 0; g < G; g++) jointMax = Math.max(jointMax, joint[h * G + g] as number);
  }
  let total = 0;
  for (let c = 0; c < n; c++) {
    if ((prior[c] as number) === 0) {
      for (let g = 0; g < G; g++) joint[c * G + g] = 0;
      continue;
    }
    for (let g = 0; g < G; g++) {
      const v = Math.exp((joint[c * G + g] as number) - jointMax);
      joint[c * G + g] = v;
      total += v;
    }
  }
  for (let h = n; h < H; h++) {
    for (let g = 0; g < G; g++) {
      const v = Math.exp((joint[h * G + g] as number) - jointMax);
      joint[h * G + g] = v;
      total += v;
    }
  }
  const mass = new Float64Array(H);
  const chance = new Float64Array(G);
  for (let h = 0; h < H; h++) {
    let m = 0;
    for (let g = 0; g < G; g++) {
      const v = (joint[h * G + g] as number) / total;
      joint[h * G + g] = v;
      m += v;
      chance[g] = (chance[g] as number) + v;
    }
    mass[h] = m;
  }
  const batchFailure = new Float64Array(BATCH_FAILURE_GRID.length);
  const rateTotal = rateSum.reduce((a, v) => a + v, 0);
  rateIndex.forEach((b, r) => (batchFailure[b] = R === 1 ? 1 : (rateSum[r] as number) / rateTotal));
  return { kind, n, everywhere: n, nowhere: n + 1, joint, mass, chance, spread: eps, batchFailure };
}

/** The `q` quantile of the reproduction chance from one commit's own counts alone (the chance may change along the range). */
export function ownReproChanceQuantile(target: number, clean: number, q: number): number {
  const w = REPRO_GRID.map((p, g) => (REPRO_PRIOR[g] as number) * Math.exp(presentLogLikelihood(target, clean, p)));
  const total = w.reduce((a, v) => a + v, 0);
  let cum = 0;
  for (let g = 0; g < w.length; g++) {
    cum += w[g] as number;
    if (cum >= q * total) return REPRO_GRID[g] as number;
  }
  return REPRO_GRID[REPRO_GRID.length - 1] as number;
}

function logSumExp(xs: readonly number[]): number {
  const m = Math.max(...xs);
  if (m === -Infinity) return m;
  return m + Math.log(xs.reduce((a, x) => a + Math.exp(x - m), 0));
}

function logAdd(a: number, b: number): number {
  const m = Math.max(a, b);
  return m + Math.log(Math.exp(a - m) + Math.exp(b - m));
}

/** Posterior mean of the reproduction chance given hypothesis h. */
export function reproChanceGiven(post: Posterior, h: number): number {
  const G = REPRO_GRID.length;
  let m = 0;
  let s = 0;
  for (let g = 0; g < G; g++) {
    const v = post.joint[h * G + g] as number;
    m += v;
    s += v * (REPRO_GRID[g] as number);
  }
  return m > 0 ? s / m : 0;
}

/** Hypotheses by decreasing mass until `level` is covered: the shortest credible list. */
export function credibleSet(mass: Float64Array, level: number): number[] {
  const order = [...mass.keys()].filter((h) => (mass[h] as number) > 0);
  order.sort((a, b) => (mass[b] as number) - (mass[a] as number));
  const chosen: number[] = [];
  let covered = 0;
  for (const h of order) {
    if (covered >= level) break;
    chosen.push(h);
    covered += mass[h] as number;
  }
  return chosen;
}

export function topHypothesis(mass: Float64Array): number {
  let best = 0;
  for (let h = 1; h < mass.length; h++) if ((mass[h] as number) > (mass[best] as number)) best = h;
  return best;
}
