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
