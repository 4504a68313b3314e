// Telling the bisected crash from unrelated ones. The same bug shows up under several titles
// (a use-after-free is sometimes caught by KASAN, sometimes as a GPF in the same function), so
// equality of titles alone would call the target "gone" on commits where it is still there.

import type { CrashIdentity } from "./types.js";

/** True when a and b are the same bug: same title, a shared alternative title, or same type and guilty frame. */
export function sameCrash(a: CrashIdentity, b: CrashIdentity): boolean {
  if (a.title !== "" && a.title === b.title) return true;
  const aNames = new Set([a.title, ...a.alt].filter((t) => t !== ""));
  if ([b.title, ...b.alt].some((t) => t !== "" && aNames.has(t))) return true;
  // A type alone is not enough (two different WARNINGs share it); the frame pins the place.
  return a.type !== "" && a.frame !== "" && a.type === b.type && a.frame === b.frame;
}

/** The target crash of a bisection and every name it is known by. */
export class CrashFamily {
  readonly target: CrashIdentity;
  private readonly names: ReadonlySet<string>;

  constructor(target: CrashIdentity) {
    this.target = { title: target.title, alt: [...target.alt], type: target.type, frame: target.frame };
    this.names = new Set([target.title, ...target.alt].filter((t) => t !== ""));
  }

  /** Whether `crash` is the target bug (see sameCrash). */
  includes(crash: CrashIdentity): boolean {
    if ([crash.title, ...crash.alt].some((t) => t !== "" && this.names.has(t))) return true;
    const { type, frame } = this.target;
    return type !== "" && frame !== "" && crash.type === type && crash.frame === frame;
  }

  /** Every title the target is known by, for logs and result files. */
  titles(): string[] {
    return [...this.names];
  }
}

/** The part of a crash that graded identity compares; frames guilty-first, file the guilty file. */
export interface CrashShape extends CrashIdentity {
  frames?: readonly string[];
  file?: string;
}

/**
 * How much `crash` looks like `target`, from 0 (unrelated) to 1 (the same bug by sameCrash).
 * Between: same type with shared stack frames (a renamed or inlined top frame leaves the frames
 * below it), or same type in the same guilty file. A different type is never related: a WARNING
 * and a use-after-free in one function are two bugs as often as one.
 */
export function crashSimilarity(crash: CrashShape, target: CrashShape): number {
  if (sameCrash(crash, target)) return 1;
  if (crash.type === "" || crash.type !== target.type) return 0;
  const a = (crash.frames ?? []).filter((f) => f !== "");
  const b = new Set((target.frames ?? []).filter((f) => f !== ""));
  const shared = a.filter((f) => b.has(f)).length;
  const framesScore = shared === 0 ? 0 : shared / Math.max(a.length, b.size);
  const fileScore = crash.file && crash.file === target.file ? 0.5 : 0;
  return Math.min(0.9, Math.max(framesScore, fileScore));
}
