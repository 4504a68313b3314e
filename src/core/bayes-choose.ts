// Which commits to test next: the expected information a batch of runs gives about the culprit,
// per unit of cost; with P workers, P commits whose answers split the hypotheses most finely.

import { cachedAncestry, type Dag } from "./dag.js";
import { BATCH_FAILURE_GRID } from "./bayes-evidence.js";
import { REPRO_GRID, REPRO_PRIOR, SPURIOUS, type Posterior } from "./bayes-posterior.js";

/** Mass of "the bug is present at X", per chance grid point, and of "absent". */
export interface Presence {
  present: Float64Array;
  absent: number;
  /** Total P(present at X). */
  w: number;
}

export function presenceAt(post: Posterior, anc: Uint8Array): Presence {
  const G = REPRO_GRID.length;
  const inAnc = new Float64Array(G);
  const allCommits = new Float64Array(G);
  const { joint, n } = post;
  for (let c = 0; c < n; c++) {
    const row = c * G;
    const into = anc[c] ? inAnc : undefined;
    for (let g = 0; g < G; g++) {
      const v = joint[row + g] as number;
      allCommits[g] = (allCommits[g] as number) + v;
      if (into) into[g] = (into[g] as number) + v;
    }
  }
  const present = new Float64Array(G);
  let absent = 0;
  let w = 0;
  for (let g = 0; g < G; g++) {
    const everywhere = joint[post.everywhere * G + g] as number;
    const nowhere = joint[post.nowhere * G + g] as number;
    const a = inAnc[g] as number;
    const rest = (allCommits[g] as number) - a;
    const p = post.kind === "cause" ? a + everywhere : rest + everywhere;
    present[g] = p;
    w += p;
    absent += post.kind === "cause" ? rest + nowhere : a + nowhere;
  }
  return { present, absent, w };
}

/** Bits in a yes/no answer that is yes with chance p. */
export function entropy2(p: number): number {
  if (p <= 0 || p >= 1) return 0;
  return -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
}

function binomial(k: number, n: number, p: number): number {
  let logC = 0;
  for (let i = 0; i < k; i++) logC += Math.log(n - i) - Math.log(i + 1);
  return Math.exp(logC + k * Math.log(p) + (n - k) * Math.log1p(-p));
}

/**
 * What the posterior says about one commit beyond "present or absent": the share of commits whose
 * chance is their own (the posterior's spread), this commit's runs so far, and how often a whole
 * batch shows nothing. A commit whose clean runs the posterior explains by a chance of its own or
 * by dead batches answers little when asked again, however open its question still is: without
 * this the choice kept asking a release that had tested clean 27 times (unseen-3a's world 30).
 */
export interface CommitContext {
  spread: number;
  /** Runs at this commit (its binary) so far, under the active remedies. */
  target: number;
  clean: number;
  /** Posterior over the batch-failure rate on BATCH_FAILURE_GRID. */
  batchFailure?: Float64Array;
}

/** P(k of `runs` show the target | present at chance p): a dead batch shows nothing. */
function showing(k: number, runs: number, p: number, dead: number): number {
  return (k === 0 ? dead : 0) + (1 - dead) * binomial(k, runs, p);
}

/** Expected bits learnt about "present at X" from `runs` informative runs there (one batch). */
export function testInformation(presence: Presence, runs: number, context?: CommitContext): number {
  const total = presence.w + presence.absent;
  if (total <= 0 || runs <= 0) return 0;
  const prior = presence.w / total;
  const G = REPRO_GRID.length;
  const dead = context?.batchFailure ? context.batchFailure.reduce((a, w, b) => a + w * (BATCH_FAILURE_GRID[b] as number), 0) : 0;
  // With spread ε the commit may have a chance of its own: its runs so far say how likely that is
  // (a range-wide chance they contradict makes it near certain) and which chance it would be.
  const spread = context?.spread ?? 0;
  let ownShare = 0;
  const own = new Float64Array(G);
  if (context && spread > 0) {
    const seen = (p: number): number => Math.pow(p, context.target) * Math.pow(1 - p, context.clean);
    let ownLikelihood = 0;
    for (let g = 0; g < G; g++) {
      own[g] = (REPRO_PRIOR[g] as number) * seen(REPRO_GRID[g] as number);
      ownLikelihood += own[g] as number;
    }
    let shared = 0;
    for (let g = 0; g < G; g++) shared += ((presence.present[g] as number) / Math.max(1e-300, presence.w)) * seen(REPRO_GRID[g] as number);
    const a = spread * ownLikelihood;
    const b = (1 - spread) * shared;
    ownShare = a + b > 0 ? a / (a + b) : spread;
    for (let g = 0; g < G; g++) own[g] = ownLikelihood > 0 ? (own[g] as number) / ownLikelihood : (REPRO_PRIOR[g] as number);
  }
  let after = 0;
  for (let k = 0; k <= runs; k++) {
    let ownK = 0;
    if (ownShare > 0) for (let g = 0; g < G; g++) ownK += (own[g] as number) * showing(k, runs, REPRO_GRID[g] as number, dead);
    let pk = 0;
    for (let g = 0; g < G; g++) pk += ((presence.present[g] as number) / total) * ((1 - ownShare) * showing(k, runs, REPRO_GRID[g] as number, dead) + ownShare * ownK);
    const pAbsent = (presence.absent / total) * showing(k, runs, SPURIOUS, dead);
    const all = pk + pAbsent;
    if (all > 0) after += all * entropy2(pk / all);
  }
  return Math.max(0, entropy2(prior) - after);
}

/** Up to this many hypotheses left with any weight, every one of them is scored. */
const ALL_LEADERS = 64;

/** Commits worth scoring: quantiles of the posterior along the topological order, the leaders and their parents. */
export function candidateCommits(dag: Dag, post: Posterior, quantiles: number, extra: readonly number[]): number[] {
  const chosen = new Set<number>();
  const { mass, n } = post;
  let total = 0;
  for (let c = 0; c < n; c++) total += mass[c] as number;
  if (total > 0) {
    let cum = 0;
    let q = 1;
    for (let c = 0; c < n && q <= quantiles; c++) {
      cum += mass[c] as number;
      while (q <= quantiles && cum >= (total * q) / (quantiles + 1)) {
        chosen.add(c);
        // On a DAG the commit at a quantile may sit on a short side branch; its parent and
        // child are cheap extra chances of a better split.
        for (const p of dag.parents[c] as readonly number[]) chosen.add(p);
        q++;
      }
    }
  }
  // The leading hypotheses and their parents: verifying a culprit means testing both. Once few
  // are left, every one of them: where the mass is flat (a stretch that does not build) the top
  // four are the oldest by index, and the one testable commit between the stretch and a crashing
  // commit was never weighed (build-broken-4, seed 6: "no test left", a list one too long).
  const order = [...Array(n).keys()].filter((c) => (mass[c] as number) > 1e-4);
  order.sort((a, b) => (mass[b] as number) - (mass[a] as number));
  for (const c of order.length <= ALL_LEADERS ? order : order.slice(0, 4)) {
    chosen.add(c);
    for (const p of dag.parents[c] as readonly number[]) chosen.add(p);
  }
  for (const c of extra) chosen.add(c);
  return [...chosen].sort((a, b) => a - b);
}

export interface ScoredCandidate {
  commit: number;
  anc: Uint8Array;
  presence: Presence;
  bits: number;
  cost: number;
  /** Runs to ask for: the request size that gives most bits per cost. */
  runs: number;
}

/** One size of request: `runs` asked, `informative` of them expected to say something, at `cost`. */
export interface RunOption {
  runs: number;
  informative: number;
  cost: number;
}

/**
 * Request sizes worth weighing: whole waves of the runs a worker starts at once, up to the job's
 * runs per commit, and those. Where one wave holds them all there is one size: the job's.
 */
export function runSizes(runsPerCommit: number, runsAtOnce: number): number[] {
  const all = Math.max(1, runsPerCommit);
  const wave = Math.max(1, Math.min(all, runsAtOnce));
  const sizes: number[] = [];
  for (let n = wave; n < all; n += wave) sizes.push(n);
  sizes.push(all);
  return sizes;
}

/** How often a check of the good commit may miss a bug that is there: one in a hundred. */
const GOOD_CHECK_MISS = 0.01;

/**
 * Runs for the check that the user's good commit does not crash too: the smallest of `sizes` at
 * which a bug there, firing as often as the start commit's runs say, would show at least once in
 * all but GOOD_CHECK_MISS of cases; the whole batch where none is enough. The chance is read low
 * (hits over tries plus two), so a few lucky runs on the start do not shrink the check. A check
 * that misses costs builds, never the answer: the good commit is good by assumption, and a
 * culprit whose clean side is the good commit is verified on it again.
 */
export function goodCheckRuns(sizes: readonly number[], hits: number, tries: number): number {
  const chance = Math.max(0, hits) / (Math.max(hits, tries) + 2);
  const all = sizes.at(-1) ?? 1;
  return sizes.find((runs) => (1 - chance) ** runs <= GOOD_CHECK_MISS) ?? all;
}

/** Scores `commit` at the size of request that gives most bits per cost; the larger on a tie (more evidence for the same wait). */
export function scoreCandidate(dag: Dag, post: Posterior, commit: number, options: readonly RunOption[], context?: CommitContext): ScoredCandidate {
  const anc = cachedAncestry(dag, commit);
  const presence = presenceAt(post, anc);
  let best: ScoredCandidate | undefined;
  for (const option of options) {
    const bits = testInformation(presence, option.informative, context);
    const scored = { commit, anc, presence, bits, cost: option.cost, runs: option.runs };
    if (!best || bits / option.cost >= (best.bits / best.cost) * (1 - 1e-9)) best = scored;
  }
  if (!best) throw new Error("scoreCandidate: no request size to weigh");
  return best;
}

/**
 * Picks up to `slots` commits. The first maximises bits per cost; each further one maximises how
 * much it refines the partition of hypotheses the chosen ones induce (discounted by how reliably a
 * batch answers it), per cost — P answers at once should not all ask the same question. Commits
 * whose answers are on their way (`pending`, their ancestries) count as chosen already.
 */
export function pickTests(post: Posterior, scored: readonly ScoredCandidate[], slots: number, minBits: number, pending: readonly Uint8Array[] = []): ScoredCandidate[] {
  const usable = scored.filter((s) => s.bits >= minBits);
  if (usable.length === 0) return [];
  usable.sort((a, b) => b.bits / b.cost - a.bits / a.cost || a.commit - b.commit);
  const first = usable[0] as ScoredCandidate;
  const picked: ScoredCandidate[] = pending.length === 0 ? [first] : [];
  if (slots <= picked.length) return picked;
  const H = post.n + 2;
  const cell = new Int32Array(H);
  // 1 when hypothesis h says the bug is present at the commit whose ancestry is `anc`.
  const split = (anc: Uint8Array, h: number): number => {
    if (h === post.everywhere) return 1;
    if (h === post.nowhere) return 0;
    const inAnc = anc[h] as number;
    return post.kind === "cause" ? inAnc : 1 - inAnc;
  };
  const refine = (anc: Uint8Array): void => {
    for (let h = 0; h < H; h++) cell[h] = (cell[h] as number) * 2 + split(anc, h);
  };
  const partitionEntropy = (anc: Uint8Array | undefined): number => {
    const sums = new Map<number, number>();
    for (let h = 0; h < H; h++) {
      const m = post.mass[h] as number;
      if (m <= 0) continue;
      const key = anc ? (cell[h] as number) * 2 + split(anc, h) : (cell[h] as number);
      sums.set(key, (sums.get(key) ?? 0) + m);
    }
    let e = 0;
    for (const m of sums.values()) if (m > 0) e -= m * Math.log2(m);
    return e;
  };
  // Cells are a bit pattern; past ~30 refinements it would overflow, far beyond any worker count.
  const refinements = Math.min(30, pending.length + slots);
  for (const anc of pending.slice(0, refinements - 1)) refine(anc);
  for (const s of picked) refine(s.anc);
  let done = Math.min(pending.length, refinements - 1) + picked.length;
  while (picked.length < slots && done < refinements) {
    const now = partitionEntropy(undefined);
    let best: ScoredCandidate | undefined;
    let bestScore = 0;
    for (const s of usable) {
      if (picked.includes(s)) continue;
      const reliability = s.bits / Math.max(1e-9, entropy2(s.presence.w / (s.presence.w + s.presence.absent)));
      const gain = (partitionEntropy(s.anc) - now) * Math.min(1, reliability);
      const score = gain / s.cost;
      if (score > bestScore + 1e-12) {
        bestScore = score;
        best = s;
      }
    }
    if (!best || bestScore < minBits / 4) break;
    picked.push(best);
    refine(best.anc);
    done++;
  }
  return picked;
}
