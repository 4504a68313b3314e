// git bisect's choice of the next commit on a DAG: among the commits that may still be the
// first bad one, the one whose ancestors (inside that set) split it most evenly.

import type { Dag } from "./dag.js";

export type MidpointStep =
  | { kind: "test"; commit: number; revisionsLeft: number; stepsLeft: number; candidates: number }
  | { kind: "found"; culprit: number }
  /** Every remaining candidate but `bad` was skipped: the first bad commit is one of these. */
  | { kind: "only-skipped"; candidates: number[] };

/** Commits that are ancestors of `bad` (inclusive) and of no good commit. */
export function candidateSet(dag: Dag, bad: number, goods: readonly number[]): Uint8Array {
  const inRange = dag.ancestry(bad);
  for (const good of goods) {
    const excluded = dag.ancestry(good);
    for (let i = 0; i < inRange.length; i++) if (excluded[i]) inRange[i] = 0;
  }
  return inRange;
}

/** git's estimate of the steps left for `all` candidates. */
export function estimateSteps(all: number): number {
  if (all < 3) return 0;
  const n = Math.floor(Math.log2(all));
  const e = 2 ** n;
  const x = all - e;
  return e < 3 * x ? n : n - 1;
}

export function nextMidpoint(dag: Dag, bad: number, goods: readonly number[], skipped: ReadonlySet<number>): MidpointStep {
  const inRange = candidateSet(dag, bad, goods);
  const members: number[] = [];
  for (let i = 0; i < inRange.length; i++) if (inRange[i]) members.push(i);
  const all = members.length;
  if (all <= 1) return { kind: "found", culprit: bad };
  const weights = ancestorWeights(dag, members, inRange);
  let best = -1;
  let bestScore = -1;
  for (let k = 0; k < members.length; k++) {
    const commit = members[k] as number;
    if (commit === bad || skipped.has(commit)) continue;
    const w = weights[k] as number;
    const score = Math.min(w, all - w);
    // Ties go to the newest commit, as git's newest-first walk picks it.
    if (score >= bestScore) {
      bestScore = score;
      best = k;
    }
  }
  if (best < 0) return { kind: "only-skipped", candidates: members.filter((c) => c === bad || skipped.has(c)) };
  const reaches = weights[best] as number;
  return {
    kind: "test",
    commit: members[best] as number,
    revisionsLeft: Math.max(0, all - reaches - 1),
    stepsLeft: estimateSteps(all),
    candidates: all,
  };
}

/** For each member, how many members are it or its ancestors. Linear stretches are counted
 *  by depth; bitsets are only needed where merges make ancestor sets overlap. */
function ancestorWeights(dag: Dag, members: readonly number[], inRange: Uint8Array): number[] {
  const position = new Map<number, number>();
  members.forEach((c, k) => position.set(c, k));
  const parentsIn = members.map((c) => (dag.parents[c] as number[]).filter((p) => inRange[p]).map((p) => position.get(p) as number));
  const linear = parentsIn.every((ps) => ps.length <= 1);
  if (linear) {
    const depth = new Array<number>(members.length).fill(0);
    parentsIn.forEach((ps, k) => (depth[k] = ps.length === 0 ? 1 : (depth[ps[0] as number] as number) + 1));
    return depth;
  }
  const words = Math.ceil(members.length / 32);
  const sets: Uint32Array[] = [];
  const weights: number[] = [];
  parentsIn.forEach((ps, k) => {
    const set = new Uint32Array(words);
    for (const p of ps) {
      const parentSet = sets[p] as Uint32Array;
      for (let w = 0; w < words; w++) set[w] = (set[w] as number) | (parentSet[w] as number);
    }
    set[k >>> 5] = (set[k >>> 5] as number) | (1 << (k & 31));
    sets.push(set);
    weights.push(popcount(set));
  });
  return weights;
}

function popcount(set: Uint32Array): number {
  let n = 0;
  for (let w of set) {
    w -= (w >>> 1) & 0x55555555;
    w = (w & 0x33333333) + ((w >>> 2) & 0x33333333);
    n += (((w + (w >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }
  return n;
}
