// Which releases a cause bisection tests before it bisects: testing every tag back to v2.6 costs
// a build each, so like syzbot we test the newest few closely and thin out further back, where
// the crash is less likely to start. Pure; the orchestrator feeds it the reachable tags.

import { compareReleases, parseRelease, type ReleaseVersion } from "./releases.js";

export interface ReleasePickPolicy {
  /** Newest point releases (vX.Y.Z, Z > 0) to test; a middle one is added when there are many. */
  pointReleases: number;
  /** Newest base releases (vX.Y) tested one by one before thinning starts. */
  newest: number;
  /** From base-release index `from` on (0 = newest), test every `every`-th. Sorted by `from`. */
  thinning: { from: number; every: number }[];
  /** Test -rc tags too (syzbot does not: rc kernels are less stable, so they blur the search). */
  includeRc: boolean;
  /** Never test below this release (older compilers or configs no longer work there). */
  oldest?: string;
  /** At most this many releases in all, newest first. */
  max: number;
}

export const DEFAULT_RELEASE_PICK: ReleasePickPolicy = {
  pointReleases: 2,
  newest: 3,
  thinning: [
    { from: 3, every: 2 },
    { from: 11, every: 3 },
  ],
  includeRc: false,
  max: 20,
};

/** More point releases than this and the middle one is tested too, to split a long stable series. */
const MANY_POINT_RELEASES = 5;

function isPointRelease(v: ReleaseVersion): boolean {
  return v.numbers.length >= 3 && v.numbers.slice(2).some((n) => n !== 0);
}

function stepAt(index: number, thinning: ReleasePickPolicy["thinning"]): number {
  let every = 1;
  for (const t of thinning) if (index >= t.from) every = t.every;
  return every;
}

/**
 * The releases to test, newest first. `releases` are the tags reachable from the start commit in
 * any order; anything that is not a release tag is ignored. The oldest eligible base release is
 * always kept, so the search is bounded below by the policy's floor.
 */
export function pickReleases<T extends { tag: string }>(releases: readonly T[], policy: ReleasePickPolicy = DEFAULT_RELEASE_PICK): T[] {
  const floor = policy.oldest === undefined ? undefined : parseRelease(policy.oldest);
  const eligible = releases
    .map((r) => ({ r, v: parseRelease(r.tag) }))
    .filter((x): x is { r: T; v: ReleaseVersion } => x.v !== undefined)
    .filter(({ v }) => policy.includeRc || v.pre === undefined)
    .filter(({ v }) => floor === undefined || compareReleases(v, floor) >= 0)
    .sort((a, b) => compareReleases(b.v, a.v) || a.r.tag.localeCompare(b.r.tag));

  const points = eligible.filter(({ v }) => isPointRelease(v));
  const bases = eligible.filter(({ v }) => !isPointRelease(v));
  const picked = new Set<T>();
  for (const p of points.slice(0, policy.pointReleases)) picked.add(p.r);
  if (points.length > MANY_POINT_RELEASES && policy.pointReleases > 0) picked.add((points[Math.floor(points.length / 2)] as { r: T }).r);
  bases.forEach(({ r }, i) => {
    const every = i < policy.newest ? 1 : stepAt(i, policy.thinning);
    if (i % every === 0 || i === bases.length - 1) picked.add(r);
  });

  const ordered = eligible.filter(({ r }) => picked.has(r)).map(({ r }) => r);
  if (ordered.length <= policy.max) return ordered;
  // Over the cap: keep the newest ones and the floor, so the result still bounds the search.
  return [...ordered.slice(0, Math.max(0, policy.max - 1)), ordered.at(-1) as T];
}
