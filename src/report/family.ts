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

// Where work enters the kernel or a program: shared by unrelated bugs, so sharing them says nothing.
const entryFrame =
  /^(?:do_syscall_|entry_SYSCALL|__?x64_sys_|__?ia32_sys_|__arm64_sys_|invoke_syscall|el0_|el0t_|ret_from_fork|kthread$|worker_thread$|process_one_work$|smpboot_thread_fn$|run_ksoftirqd$|__do_softirq$|do_softirq|irq_exit|sysvec_|asm_|call_timer_fn$|__run_timers|run_timer_softirq$|main$|__libc_start|_start$)/;

/** Share of the two stacks' frames (entry points aside) that both have, 0…1. */
function stackOverlap(a: readonly string[], b: readonly string[]): number {
  const mine = [...new Set(a.filter((f) => f !== "" && !entryFrame.test(f)))];
  const theirs = new Set(b.filter((f) => f !== "" && !entryFrame.test(f)));
  if (mine.length === 0 || theirs.size === 0) return 0;
  const shared = mine.filter((f) => theirs.has(f)).length;
  return shared / Math.max(mine.length, theirs.size);
}

/**
 * How much `crash` looks like `target`, from 0 (unrelated) to 1 (the same bug by sameCrash).
 * A renamed, inlined or split guilty function changes the title but leaves the callers: same
 * type with at least half the stack shared is related (0.5…0.9); less sharing, or only the same
 * guilty file, is a weak likeness below 0.5. A different type is never related: a WARNING and a
 * use-after-free in one function are two bugs as often as one. Symmetric.
 */
export function crashSimilarity(crash: CrashShape, target: CrashShape): number {
  if (sameCrash(crash, target)) return 1;
  if (crash.type === "" || crash.type !== target.type) return 0;
  const overlap = stackOverlap(crash.frames ?? [], target.frames ?? []);
  if (overlap >= 0.5) return 0.5 + 0.4 * overlap;
  const sameFile = crash.file !== undefined && crash.file !== "" && crash.file === target.file;
  return Math.max(0.5 * overlap, sameFile ? 0.3 : 0);
}
