// Release tags and their order: `vX.Y`, `vX.Y.Z`, `vX.Y-rcN` (kernel) and `X.Y.Z`-like tags.
// Like `git tag --sort=-v:refname` with `-rc` as a pre-release; semver packages mis-order kernel tags.

export interface ReleaseVersion {
  tag: string;
  numbers: number[];
  /** Pre-release number (rcN, alphaN, betaN); undefined for a final release. */
  pre?: number;
}

const RELEASE = /^v?(\d+(?:\.\d+){1,3})(?:-?(rc|alpha|beta|pre)\.?(\d+))?$/i;

/** Parses a tag that names a release; undefined for anything else (e.g. `latest`, `v1.2-foo`). */
export function parseRelease(tag: string): ReleaseVersion | undefined {
  const m = RELEASE.exec(tag);
  if (!m) return undefined;
  const numbers = (m[1] as string).split(".").map(Number);
  return m[3] === undefined ? { tag, numbers } : { tag, numbers, pre: Number(m[3]) };
}

/** Negative when a is older than b. Trailing zeros do not matter: v5.13 == v5.13.0. */
export function compareReleases(a: ReleaseVersion, b: ReleaseVersion): number {
  const n = Math.max(a.numbers.length, b.numbers.length);
  for (let i = 0; i < n; i++) {
    const d = (a.numbers[i] ?? 0) - (b.numbers[i] ?? 0);
    if (d !== 0) return d;
  }
  // A pre-release comes before its final release.
  if (a.pre === undefined && b.pre === undefined) return 0;
  if (a.pre === undefined) return 1;
  if (b.pre === undefined) return -1;
  return a.pre - b.pre;
}

/** Release tags only, newest first. */
export function sortReleasesNewestFirst(tags: readonly string[]): ReleaseVersion[] {
  return tags
    .map(parseRelease)
    .filter((r): r is ReleaseVersion => r !== undefined)
    .sort((a, b) => compareReleases(b, a) || a.tag.localeCompare(b.tag));
}
