// How many bisect steps a job running culprit's strategy has left, read off its posterior over
// the range: that strategy does not count steps ahead (syzbot's and git bisect's rules do, in
// their bisect-step notes), but its posterior says how much is still unknown.

import { CONFIDENCE_TARGET } from "../core/bayes-stop.js";

/** Shannon entropy of a distribution, in bits (masses that do not sum to 1 are normalised). */
export function entropyBits(masses: readonly number[]): number {
  const total = masses.reduce((sum, p) => sum + (p > 0 ? p : 0), 0);
  if (total <= 0) return 0;
  let bits = 0;
  for (const m of masses) {
    if (m <= 0) continue;
    const p = m / total;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * The least uncertainty a posterior can have while its leader is still below the target: all the
 * rest on one other hypothesis.
 */
const STOP_BITS = entropyBits([CONFIDENCE_TARGET, 1 - CONFIDENCE_TARGET]);

/**
 * Tests left before the leading hypothesis holds CONFIDENCE_TARGET (where the strategy stops
 * bisecting and verifies). A test of one commit tells at most one bit, so a posterior of H bits
 * needs at least ⌈H − STOP_BITS⌉ more (a flaky reproducer's tests tell less: more are needed);
 * 0 once the leader holds the target. `masses`: every hypothesis, the range's commits and the
 * "everywhere" / "nowhere" ones alike.
 */
export function stepsLeftOf(masses: readonly number[]): number {
  const total = masses.reduce((sum, p) => sum + (p > 0 ? p : 0), 0);
  if (total <= 0) return 0;
  if (Math.max(...masses) / total >= CONFIDENCE_TARGET) return 0;
  return Math.max(1, Math.ceil(entropyBits(masses) - STOP_BITS - 1e-9));
}
