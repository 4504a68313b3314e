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

/**
 * For each member, how many members are it or its ancestors (exact, as git counts them). A commit
 * with one parent in the set weighs its parent plus one; only merges need their ancestor set
 * walked, so a history of n commits and m merges costs O(n + m·n), not O(n²).
 */
function ancestorWeights(dag: Dag, members: readonly number[], inRange: Uint8Array): number[] {
  const position = new Map<number, number>();
  members.forEach((c, k) => position.set(c, k));
  const weights = new Array<number>(members.length).fill(0);
  const seen = new Int32Array(dag.size);
  let stamp = 0;
  members.forEach((commit, k) => {
    const inside = (dag.parents[commit] as readonly number[]).filter((p) => inRange[p]);
    if (inside.length === 0) weights[k] = 1;
    else if (inside.length === 1) weights[k] = (weights[position.get(inside[0] as number) as number] as number) + 1;
    else weights[k] = countAncestors(dag, commit, inRange, seen, ++stamp);
  });
  return weights;
}

function countAncestors(dag: Dag, from: number, inRange: Uint8Array, seen: Int32Array, stamp: number): number {
  let count = 0;
  const stack = [from];
  seen[from] = stamp;
  while (stack.length > 0) {
    const at = stack.pop() as number;
    count++;
    for (const p of dag.parents[at] as readonly number[]) {
      if (inRange[p] && seen[p] !== stamp) {
        seen[p] = stamp;
        stack.push(p);
      }
    }
  }
  return count;
}

const memo = new WeakMap<Dag, Map<string, MidpointStep>>();

/**
 * nextMidpoint, remembered per graph: strategies that replay their whole procedure on every call
 * (syzbot's, git bisect's) ask the same questions again and again. Results are pure, so this is safe.
 */
export function cachedMidpoint(dag: Dag, bad: number, goods: readonly number[], skipped: ReadonlySet<number>): MidpointStep {
  let known = memo.get(dag);
  if (!known) {
    known = new Map();
    memo.set(dag, known);
  }
  const key = `${bad}|${[...goods].sort((a, b) => a - b).join(",")}|${[...skipped].sort((a, b) => a - b).join(",")}`;
  let step = known.get(key);
  if (!step) {
    if (known.size > 5000) known.clear();
    step = nextMidpoint(dag, bad, goods, skipped);
    known.set(key, step);
  }
  return step;
}
