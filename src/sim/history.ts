// Synthetic commit histories: a mainline with side branches merged back at intervals, and
// release tags on the mainline. Indices are a topological order (0 = oldest).

import { generator, hashSeed, intBetween } from "./random.js";

export interface HistorySpec {
  commits: number;
  /** A merge every this many mainline commits; 0 = linear history. */
  mergeEvery: number;
  /** Typical length of a merged side branch. */
  sideBranchLength: number;
  /** A release tag every this many commits (on the mainline). */
  releaseEvery: number;
  /** Merged side branches based on a commit older than the range: their first commit has no parent inside it. */
  oldBaseBranches?: number;
}

export interface History {
  parents: number[][];
  /** 1 for commits on the first-parent chain of the newest commit. */
  mainline: Uint8Array;
  /** Release tags, oldest first. */
  releases: { tag: string; index: number }[];
  hashes: string[];
}

export function commitHash(index: number): string {
  return `c${index.toString().padStart(6, "0")}`;
}

function releaseTag(k: number): string {
  return `v${4 + Math.floor(k / 20)}.${k % 20}`;
}

export function generateHistory(spec: HistorySpec, seed: number): History {
  const random = generator(hashSeed("history", seed));
  const n = spec.commits;
  const parents: number[][] = [[]];
  const mainline: number[] = [1];
  const mainIndices = [0];
  let tip = 0;
  while (parents.length < n) {
    const remaining = n - parents.length;
    const L = Math.max(1, spec.sideBranchLength);
    if (spec.mergeEvery > 0 && mainIndices.length % spec.mergeEvery === 0 && remaining >= 2) {
      const length = Math.min(intBetween(random, Math.ceil(L / 2), Math.ceil(L * 1.5)), remaining - 1);
      const back = Math.min(mainIndices.length - 1, intBetween(random, 0, 2 * L));
      let prev = mainIndices[mainIndices.length - 1 - back] as number;
      for (let j = 0; j < length; j++) {
        parents.push([prev]);
        mainline.push(0);
        prev = parents.length - 1;
      }
      parents.push([tip, prev]);
    } else {
      parents.push([tip]);
    }
    mainline.push(1);
    tip = parents.length - 1;
    mainIndices.push(tip);
  }
  cutOldBases(parents, mainline, spec.oldBaseBranches ?? 0, seed);
  const releases: { tag: string; index: number }[] = [{ tag: releaseTag(0), index: 0 }];
  let k = 1;
  for (const i of spec.releaseEvery > 0 ? mainIndices : []) {
    if (i >= k * spec.releaseEvery && i < n - 1) {
      releases.push({ tag: releaseTag(k), index: i });
      k = Math.floor(i / spec.releaseEvery) + 1;
    }
  }
  const hashes = parents.map((_, i) => commitHash(i));
  return { parents, mainline: Uint8Array.from(mainline), releases, hashes };
}

/**
 * Turns `count` side branches into topic branches based on an older rc than the range's boundary
 * (normal in a Linux merge window): the branch's first commit loses its parent, which lies outside
 * the range. Drawn from a stream of its own, so the rest of the history is the same as without.
 */
function cutOldBases(parents: number[][], mainline: readonly number[], count: number, seed: number): void {
  if (count <= 0) return;
  const firsts: number[] = [];
  for (let i = 1; i < parents.length; i++) {
    const p = parents[i] as number[];
    if (!mainline[i] && p.length === 1 && mainline[p[0] as number]) firsts.push(i);
  }
  const random = generator(hashSeed("old-base", seed));
  for (let k = 0; k < count && firsts.length > 0; k++) {
    const [first] = firsts.splice(intBetween(random, 0, firsts.length - 1), 1);
    parents[first as number] = [];
  }
}

/** Indices of commits with no parent inside the range but the oldest: roots of old-base branches. */
export function oldBaseRoots(parents: readonly (readonly number[])[]): number[] {
  const roots: number[] = [];
  for (let i = 1; i < parents.length; i++) if ((parents[i] as readonly number[]).length === 0) roots.push(i);
  return roots;
}

/** Membership array of `from` and every commit descending from it. */
export function descendants(parents: readonly (readonly number[])[], from: number): Uint8Array {
  const desc = new Uint8Array(parents.length);
  desc[from] = 1;
  for (let i = from + 1; i < parents.length; i++) {
    for (const p of parents[i] as readonly number[]) {
      if (desc[p]) {
        desc[i] = 1;
        break;
      }
    }
  }
  return desc;
}
