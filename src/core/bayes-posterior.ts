// The posterior over "which commit is the culprit" (plus "bug older than the range / never
// fixed" and "the start crash was a flake"), jointly with the unknown reproduction chance p.
// p is marginalised over a small grid, so a low chance is never ruled out by a lucky streak.

import type { Dag } from "./dag.js";
import type { BisectKind } from "./strategy.js";
import type { Evidence } from "./bayes-evidence.js";

/** Reproduction chances considered; denser at the low end, where mistakes are costly. */
export const REPRO_GRID: readonly number[] = [0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97];
/** Prior over the grid ∝ (1-p): errs toward a low chance, which makes noisy bisection careful. */
export const REPRO_PRIOR: readonly number[] = normalise(REPRO_GRID.map((p) => 1 - p));
/** Chance that the target's title shows up where the bug is absent (mis-attribution, a flake). */
export const SPURIOUS = 0.002;
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
}

const ancestryCache = new WeakMap<Dag, Map<number, Uint8Array>>();

/** Ancestry of commit i (membership array), memoised per graph: the strategy is called again and again on one graph. */
export function cachedAncestry(dag: Dag, i: number): Uint8Array {
  let cache = ancestryCache.get(dag);
  if (!cache) {
    cache = new Map();
    ancestryCache.set(dag, cache);
  }
  let anc = cache.get(i);
  if (!anc) {
    // Bounded so a long session on a huge graph cannot grow without limit.
    if (cache.size >= 2048) cache.clear();
    anc = dag.ancestry(i);
    cache.set(i, anc);
  }
  return anc;
}

/** Log-likelihood of `target` target runs and `clean` clean runs when the bug is present with chance p. */
export function presentLogLikelihood(target: number, clean: number, p: number): number {
  return target * Math.log(p) + clean * Math.log1p(-p);
}

export function absentLogLikelihood(target: number, clean: number): number {
  return target * Math.log(SPURIOUS) + clean * Math.log1p(-SPURIOUS);
}

/** Which commits may be the culprit a priori: a root cannot be told apart from "present everywhere". */
export function commitPrior(dag: Dag): Float64Array {
  const n = dag.size;
  const prior = new Float64Array(n);
  let eligible = 0;
  for (let i = 0; i < n; i++) if ((dag.parents[i] as readonly number[]).length > 0) eligible++;
  const each = eligible > 0 ? (1 - PRIOR_EVERYWHERE - PRIOR_NOWHERE) / eligible : 0;
  for (let i = 0; i < n; i++) if ((dag.parents[i] as readonly number[]).length > 0) prior[i] = each;
  return prior;
}

export function computePosterior(dag: Dag, kind: BisectKind, evidence: Evidence): Posterior {
  const n = dag.size;
  const G = REPRO_GRID.length;
  const acc = new Float64Array(n * G);
  const base = new Float64Array(G);
  const everywhereLL = new Float64Array(G);
  let nowhereLL = 0;
  const penalty = new Float64Array(n);
  for (const group of evidence.groups) {
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
    if (target + clean === 0) continue;
    const absent = absentLogLikelihood(target, clean);
    const delta = new Float64Array(G);
    for (let g = 0; g < G; g++) {
      const present = presentLogLikelihood(target, clean, REPRO_GRID[g] as number);
      everywhereLL[g] = (everywhereLL[g] as number) + present;
      // Cause: present iff the culprit is an ancestor; fix: absent iff it is.
      base[g] = (base[g] as number) + (kind === "cause" ? absent : present);
      delta[g] = kind === "cause" ? present - absent : absent - present;
    }
    nowhereLL += absent;
    const anc = cachedAncestry(dag, rep);
    for (let c = 0; c < n; c++) {
      if (!anc[c]) continue;
      const row = c * G;
      for (let g = 0; g < G; g++) acc[row + g] = (acc[row + g] as number) + (delta[g] as number);
    }
  }
  const prior = commitPrior(dag);
  const H = n + 2;
  const joint = new Float64Array(H * G);
  const logPriorG = REPRO_PRIOR.map(Math.log);
  let max = -Infinity;
  for (let c = 0; c < n; c++) {
    const pc = prior[c] as number;
    if (pc === 0) continue;
    const lp = Math.log(pc) + (penalty[c] as number);
    for (let g = 0; g < G; g++) {
      const v = lp + (logPriorG[g] as number) + (base[g] as number) + (acc[c * G + g] as number);
      joint[c * G + g] = v;
      if (v > max) max = v;
    }
  }
  const lpEverywhere = Math.log(PRIOR_EVERYWHERE);
  const lpNowhere = Math.log(PRIOR_NOWHERE);
  for (let g = 0; g < G; g++) {
    const e = lpEverywhere + (logPriorG[g] as number) + (everywhereLL[g] as number);
    const z = lpNowhere + (logPriorG[g] as number) + nowhereLL;
    joint[n * G + g] = e;
    joint[(n + 1) * G + g] = z;
    if (e > max) max = e;
    if (z > max) max = z;
  }
  let total = 0;
  for (let c = 0; c < n; c++) {
    if ((prior[c] as number) === 0) {
      for (let g = 0; g < G; g++) joint[c * G + g] = 0;
      continue;
    }
    for (let g = 0; g < G; g++) {
      const v = Math.exp((joint[c * G + g] as number) - max);
      joint[c * G + g] = v;
      total += v;
    }
  }
  for (let h = n; h < H; h++) {
    for (let g = 0; g < G; g++) {
      const v = Math.exp((joint[h * G + g] as number) - max);
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
  return { kind, n, everywhere: n, nowhere: n + 1, joint, mass, chance };
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
