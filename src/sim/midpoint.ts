// git bisect's midpoint choice for the baselines: among the commits that may still be the first
// new one, the one whose ancestors inside that set split it most evenly. Exact for sets of up to
// a few hundred commits; on larger sets only a spread sample of the set is weighed, which is what
// keeps thousands of simulated bisections fast (the choice is near-even either way).

import type { Dag } from "../core/dag.js";
import { cachedAncestry } from "../core/bayes-posterior.js";

const EXACT_LIMIT = 300;
const SAMPLES = 48;

/** Commits that are ancestors of `newest` (inclusive) and of no `old` commit. */
export function candidateSet(dag: Dag, newest: number, olds: readonly number[]): Uint8Array {
  const set = Uint8Array.from(cachedAncestry(dag, newest));
  for (const old of olds) {
    const excluded = cachedAncestry(dag, old);
    for (let i = 0; i < set.length; i++) if (excluded[i]) set[i] = 0;
  }
  return set;
}

function weightInSet(dag: Dag, set: Uint8Array, from: number, seen: Int32Array, stamp: number): number {
  let count = 0;
  const stack = [from];
  seen[from] = stamp;
  while (stack.length > 0) {
    const at = stack.pop() as number;
    count++;
    for (const p of dag.parents[at] as readonly number[]) {
      if (set[p] && seen[p] !== stamp) {
        seen[p] = stamp;
        stack.push(p);
      }
    }
  }
  return count;
}

export type Midpoint =
  | { kind: "test"; commit: number }
  | { kind: "found"; culprit: number }
  | { kind: "only-skipped"; candidates: number[] };

export function chooseMidpoint(dag: Dag, newest: number, olds: readonly number[], skipped: ReadonlySet<number>): Midpoint {
  const set = candidateSet(dag, newest, olds);
  const members: number[] = [];
  for (let i = 0; i < set.length; i++) if (set[i]) members.push(i);
  if (members.length <= 1) return { kind: "found", culprit: newest };
  const open = members.filter((c) => c !== newest && !skipped.has(c));
  if (open.length === 0) return { kind: "only-skipped", candidates: members };
  let pool = open;
  if (open.length > EXACT_LIMIT) {
    const picks = new Set<number>();
    for (let s = 1; s <= SAMPLES; s++) picks.add(open[Math.floor((s * open.length) / (SAMPLES + 1))] as number);
    pool = [...picks];
  }
  const seen = new Int32Array(dag.size);
  const all = members.length;
  let best = pool[0] as number;
  let bestScore = -1;
  pool.forEach((c, k) => {
    const w = weightInSet(dag, set, c, seen, k + 1);
    const score = Math.min(w, all - w);
    if (score >= bestScore) {
      bestScore = score;
      best = c;
    }
  });
  return { kind: "test", commit: best };
}
