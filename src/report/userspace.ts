// Userspace crash reports: sanitizers (ASan, LSan, UBSan, MSan, TSan, HWASan), assert failures,
// fatal signals reported by a shell, Go and Rust panics. Title = kind + the first frame that is
// neither sanitizer runtime nor libc, so the same bug gets the same title on every commit.

import type { CrashReport } from "./types.js";
import { lineText } from "./text.js";
import { normaliseTitle, sanitiseTitle, titleWithPlace } from "./titles.js";

/** One frame of a sanitizer stack ("#3 0x4011f6 in main /src/x.c:3:7"). */
export interface SanitizerFrame {
  func: string;
  /** "file:line[:col]" when symbolized, else "". */
  location: string;
  /** The binary or library the frame is in, when the symbolizer printed only that. */
  module: string;
}

/** Frames kept for graded crash identity (as for kernel reports). */
const MAX_FRAMES = 6;

// Lines longer than this are never frames; the cap keeps the parsers linear on garbage.
const MAX_FRAME_LINE = 4096;

export function parseSanitizerFrame(line: string): SanitizerFrame | null {
  if (line.length > MAX_FRAME_LINE) return null;
  // ASan: "#0 0x4011bf in use /x.c:2"; TSan: "#0 use /x.c:2 (prog+0x11d0)".
  const head = /^\s*#\d+ (?:0x[0-9a-fA-F]+(?: in|(?= \()| *$) ?)?/.exec(line);
  if (!head) return null;
  let rest = line.slice(head[0].length).trim();
  rest = rest.replace(/ \(BuildId: [0-9a-fA-F]+\)$/, "");
  let module = "";
  let location = "";
  if (rest.endsWith(")") && rest.includes("+0x")) {
    const paren = rest.lastIndexOf("(");
    if (paren !== -1 && rest.slice(paren).includes("+0x")) {
      module = rest.slice(paren + 1, rest.lastIndexOf("+0x"));
      rest = rest.slice(0, paren).trim();
    }
  }
  const space = rest.lastIndexOf(" ");
  const tail = space === -1 ? "" : rest.slice(space + 1);
  if (/:\d+(?::\d+)?$/.test(tail)) {
    location = tail;
    rest = rest.slice(0, space);
  }
  return { func: functionName(rest.trim()), location, module };
}

/** "ns::Foo::bar(int, char*) const" → "ns::Foo::bar": argument lists differ between builds. */
export function functionName(symbol: string): string {
  if (symbol.startsWith("operator")) return symbol;
  let depth = 0;
  for (let i = symbol.length - 1; i > 0; i--) {
    const c = symbol[i];
    if (c === ")") depth++;
    else if (c === "(") {
      depth--;
      if (depth === 0) {
        const name = symbol.slice(0, i).trim();
        return name === "" ? symbol : name;
      }
    }
  }
  return symbol;
}

// The sanitizer runtime, libc and C++ runtime: frames there say where the report was produced,
// not where the bug is.
const runtimeFunction =
  /^(?:_*interceptor_|__asan|__lsan|__ubsan|__msan|__tsan|__hwasan|__sanitizer|__interception|__libc_|__GI_|__assert|__pthread_kill|pthread_kill$|raise$|abort$|gsignal$|_start$|__restore_rt$|__cxa_|__gxx_|__cxxabiv1|std::|__gnu_cxx::|operator new|operator delete|(?:m|c|re|valloc|pvalloc|posix_mem|aligned_)?alloc$|memalign$|free$|cfree$|strdup$|strndup$|mem(?:cpy|move|set|cmp|chr)$|str(?:n?cpy|n?cat|n?cmp|len|nlen|chr|rchr|str)$|printf$|fprintf$|sprintf$|snprintf$|vsnprintf$|puts$)/;
const runtimeLocation = /(?:libsanitizer|compiler-rt|sanitizer_common)\/|^\.\.\/sysdeps\/|^\.\.\/csu\//;
const runtimeModule = /\/lib(?:asan|lsan|ubsan|tsan|msan|hwasan|c|stdc\+\+|pthread|m|gcc_s|dl)[.-][^/]*$/;

export function isRuntimeFrame(frame: SanitizerFrame): boolean {
  if (frame.func === "") return true;
  if (runtimeFunction.test(frame.func)) return true;
  if (frame.location !== "" && runtimeLocation.test(frame.location)) return true;
  return frame.module !== "" && runtimeModule.test(frame.module);
}

/** Frames of the stack starting at line `from`, up to the first line that is not a frame. */
function stackAt(log: string, starts: readonly number[], from: number, limit: number): { frames: SanitizerFrame[]; end: number } {
  const frames: SanitizerFrame[] = [];
  let i = from;
  for (; i < limit; i++) {
    const frame = parseSanitizerFrame(lineText(log, starts, i));
    if (!frame) break;
    frames.push(frame);
  }
  return { frames, end: i };
}

/** The first stack (starting within `window` lines after `from`) and its non-runtime frames. */
function firstStack(log: string, starts: readonly number[], from: number, window: number) {
  const limit = Math.min(starts.length, from + window);
  for (let i = from; i < limit; i++) {
    if (parseSanitizerFrame(lineText(log, starts, i))) {
      const { frames, end } = stackAt(log, starts, i, Math.min(starts.length, i + 256));
      const culprits = frames.filter((f) => !isRuntimeFrame(f));
      return { frames, culprits, end };
    }
  }
  return { frames: [] as SanitizerFrame[], culprits: [] as SanitizerFrame[], end: from };
}

interface UserspaceCrash {
  title: string;
  type: string;
  frame: string;
  guiltyFile: string;
  /** The guilty frame first, then its callers (the runtime's frames left out). */
  frames: string[];
  startLine: number;
  endLine: number;
  corrupted: boolean;
  corruptedReason: string;
}

function names(frames: readonly SanitizerFrame[]): string[] {
  return frames.map((f) => f.func);
}

function fileOf(frame: SanitizerFrame | undefined): string {
  if (!frame || frame.location === "") return "";
  return frame.location.replace(/(?::\d+)+$/, "");
}

/** "kind in frame", normalised, the frame kept whole however long the kind; just the kind without a frame. */
function withFrame(kind: string, frame: string): string {
  return frame === "" ? normaliseTitle(kind) : titleWithPlace(normaliseTitle(kind), normaliseTitle(frame));
}

/** The line ending a sanitizer report: "==PID==ABORTING", else its SUMMARY line. */
function sanitizerEnd(log: string, starts: readonly number[], from: number): number {
  const limit = Math.min(starts.length, from + 400);
  let summary = -1;
  for (let i = from + 1; i < limit; i++) {
    const line = lineText(log, starts, i);
    if (/^==\d+==ABORTING/.test(line)) return i;
    if (line.startsWith("SUMMARY: ")) summary = i;
    else if (summary !== -1 && /^==\d+==ERROR: /.test(line)) return summary;
  }
  return summary !== -1 ? summary : Math.min(starts.length - 1, from + 40);
}

const sanitizerHeader =
  /==\d+==\s*(?:ERROR|WARNING): (AddressSanitizer|HWAddressSanitizer|MemorySanitizer|LeakSanitizer): (.*)|WARNING: ThreadSanitizer: (.*)/;

/** The ASan/HWASan error kind: the token after the tool name, as its SUMMARY line spells it. */
export function sanitizerKind(description: string): string {
  const d = description.trim();
  if (/^attempting free on address which was not malloc/.test(d)) return "bad-free";
  if (/^requested allocation size/.test(d)) return "allocation-size-too-big";
  if (/out of memory|out-of-memory/.test(d)) return "out-of-memory";
  const m = /^(?:attempting )?([A-Za-z][\w-]*)/.exec(d);
  const kind = m?.[1] ?? "unknown-crash";
  if (d.slice(m?.[0].length ?? 0).startsWith(" on unknown address")) return `${kind} on unknown address`;
  return kind;
}

/** Longest recursion cycle looked for, in frames. */
const MAX_CYCLE = 64;

/**
 * The frames of the cycle a stack that overflowed repeats, starting at its least name, or [] when
 * its deeper half repeats no cycle. Where the stack ran out (a frame of the cycle, or malloc called
 * from one) changes from run to run; which functions recurse does not.
 */
export function recursionCycle(frames: readonly SanitizerFrame[]): SanitizerFrame[] {
  const names = frames.map((f) => f.func);
  const seen = new Map<string, number>();
  for (const name of names) seen.set(name, (seen.get(name) ?? 0) + 1);
  // A stack short enough to be printed whole ends in the path that entered the recursion (main…): once each.
  let end = names.length;
  while (end > 0 && seen.get(names[end - 1] as string) === 1) end--;
  const from = Math.floor(end / 2);
  for (let period = 1; period <= MAX_CYCLE && from + 2 * period <= end; period++) {
    let repeats = true;
    for (let i = from; i + period < end && repeats; i++) repeats = names[i] === names[i + period];
    if (!repeats) continue;
    const cycle = frames.slice(from, from + period);
    const first = cycle.reduce((best, f, i) => ((f.func < (cycle[best] as SanitizerFrame).func) ? i : best), 0);
    return [...cycle.slice(first), ...cycle.slice(0, first)];
  }
  return [];
}

/**
 * A sanitizer report named `kind in <first non-runtime frame of its first stack>`; a stack overflow
 * with a recursion in its stack is named by the recursion instead (see recursionCycle).
 */
function stackReport(log: string, starts: readonly number[], line: number, endLine: number, kind: string, type: string): UserspaceCrash {
  const stack = firstStack(log, starts, line + 1, endLine - line + 1);
  const cycle = kind.endsWith(": stack-overflow") ? recursionCycle(stack.culprits) : [];
  const guilty = cycle.length > 0 ? cycle : stack.culprits;
  const top = guilty[0];
  const noFrames = stack.frames.length === 0;
  return {
    title: withFrame(kind, top?.func ?? ""),
    type,
    frame: top?.func ?? "",
    guiltyFile: fileOf(top),
    frames: names(guilty),
    startLine: line,
    endLine,
    corrupted: noFrames,
    corruptedReason: noFrames ? "no frames in a stack trace" : "",
  };
}

const slug = (kind: string): string => kind.toUpperCase().replace(/[^A-Z0-9]+/g, "-").replace(/^-|-$/g, "");

function sanitizerCrash(log: string, starts: readonly number[], line: number, m: RegExpExecArray): UserspaceCrash {
  const tool = m[1] ?? "ThreadSanitizer";
  const description = (m[2] ?? m[3] ?? "").trim();
  const endLine = sanitizerEnd(log, starts, line);
  switch (tool) {
    case "LeakSanitizer":
      // The first leak's stack: the allocation frames are runtime, the caller is the leaker.
      return stackReport(log, starts, line, endLine, "LeakSanitizer: detected memory leaks", "LEAK");
    case "ThreadSanitizer": {
      const kind = description.replace(/\s*\(pid=\d+\)\s*$/, "").replace(/\s*\(potential deadlock\)/, "");
      return stackReport(log, starts, line, endLine, `ThreadSanitizer: ${kind}`, `TSAN-${slug(kind)}`);
    }
    default: {
      // The SUMMARY line spells the kind canonically; "X on unknown address" says more than "X".
      const summary = summaryKind(log, starts, line, endLine);
      let kind = sanitizerKind(description);
      if (summary && !kind.includes(" on unknown address")) kind = summary;
      const prefix = tool === "MemorySanitizer" ? "MSAN" : tool === "HWAddressSanitizer" ? "HWASAN" : "ASAN";
      return stackReport(log, starts, line, endLine, `${tool}: ${kind}`, `${prefix}-${slug(kind)}`);
    }
  }
}

function summaryKind(log: string, starts: readonly number[], from: number, to: number): string {
  for (let i = from; i <= to && i < starts.length; i++) {
    const m = /^SUMMARY: (?:Address|HWAddress|Memory)Sanitizer: ([A-Za-z][\w-]*)/.exec(lineText(log, starts, i));
    if (m?.[1]) return m[1];
  }
  return "";
}

/** "x.c:5:12: runtime error: signed integer overflow: 1 + 2 cannot be represented" → kind. */
export function ubsanKind(message: string): string {
  const colon = message.indexOf(":");
  const kind = colon === -1 ? message : message.slice(0, colon);
  // Values, addresses and sizes differ between runs; what went wrong does not.
  return kind
    .replace(/0x[0-9a-fA-F]+/g, "ADDR")
    .replace(/-?\d+/g, "NUM")
    .replace(/\s+/g, " ")
    .trim();
}

/** "x.c:5:12: runtime error: msg" → where and what; split by hand to stay linear on long lines. */
export function ubsanLine(text: string): { where: string; message: string } | null {
  const at = text.indexOf(": runtime error: ");
  if (at === -1) return null;
  const where = text.slice(text.lastIndexOf(" ", at) + 1, at);
  if (!/^\S+:\d+(?::\d+)?$/.test(where)) return null;
  return { where, message: text.slice(at + ": runtime error: ".length) };
}

/** glibc: "prog: file.c:12: func: Assertion `cond' failed." */
export function glibcAssertLine(text: string): { file: string; func: string; condition: string } | null {
  if (!text.endsWith("' failed.")) return null;
  const at = text.indexOf(": Assertion `");
  if (at === -1) return null;
  const head = text.slice(0, at);
  const place = /:\d+: /.exec(head);
  if (!place) return null;
  const file = head.slice(head.lastIndexOf(" ", place.index) + 1, place.index);
  if (file === "") return null;
  return { file, func: functionName(head.slice(place.index + place[0].length)), condition: text.slice(at + 13, -9) };
}

/** musl: "Assertion failed: cond (file.c: func: 12)" */
export function muslAssertLine(text: string): { file: string; func: string; condition: string } | null {
  if (!text.startsWith("Assertion failed: ") || !text.endsWith(")")) return null;
  const open = text.lastIndexOf(" (");
  const where = /^(\S+): (\S+): \d+\)$/.exec(text.slice(open + 2));
  if (open === -1 || !where) return null;
  return { file: where[1] ?? "", func: where[2] ?? "", condition: text.slice(18, open) };
}

function ubsanCrash(log: string, starts: readonly number[], line: number, where: string, message: string): UserspaceCrash {
  const stack = firstStack(log, starts, line + 1, 2);
  const lastFrameLine = stack.frames.length > 0 ? stack.end - 1 : line;
  const top = stack.culprits[0];
  // Without a stack (the default) the source file is the most stable location there is:
  // line numbers shift across the commits being bisected.
  const file = where.replace(/(?::\d+)+$/, "");
  const base = file.slice(file.lastIndexOf("/") + 1);
  const frame = top?.func ?? "";
  return {
    title: withFrame(`UBSan: ${ubsanKind(message)}`, frame !== "" ? frame : base),
    type: "UBSAN",
    frame,
    guiltyFile: fileOf(top) || file,
    frames: names(stack.culprits),
    startLine: line,
    endLine: lastFrameLine,
    corrupted: false,
    corruptedReason: "",
  };
}

function assertCrash(line: number, func: string, condition: string, file: string): UserspaceCrash {
  const what = sanitiseTitle(`assertion failed: ${condition.trim()}`);
  return {
    // The condition is source text, stable across runs: kept as written, numbers included.
    title: func ? titleWithPlace(what, sanitiseTitle(func)) : what,
    type: "ASSERT",
    frame: func,
    guiltyFile: file,
    frames: func ? [func] : [],
    startLine: line,
    endLine: line,
    corrupted: false,
    corruptedReason: "",
  };
}

const signalNames: Readonly<Record<string, string>> = {
  "Segmentation fault": "SIGSEGV",
  Aborted: "SIGABRT",
  Killed: "SIGKILL",
  "Bus error": "SIGBUS",
  "Floating point exception": "SIGFPE",
  "Illegal instruction": "SIGILL",
  "Trace/breakpoint trap": "SIGTRAP",
};

// A shell's report of a child killed by a signal: bare ("Segmentation fault (core dumped)")
// or bash's "script: line 3: 1234 Segmentation fault      (core dumped) ./prog" / "bash: 1234 Aborted  ./prog".
const signalName = "Segmentation fault|Aborted|Killed|Bus error|Floating point exception|Illegal instruction|Trace\\/breakpoint trap";
const shellSignal = new RegExp(
  `^(?:\\S[^:]*:(?: line \\d+:)? +\\d+ +(${signalName})(?: +\\(core dumped\\))?(?: +\\S.*)?|(${signalName})(?: \\(core dumped\\))?)$`,
);

function signalCrash(line: number, name: string): UserspaceCrash {
  const signal = signalNames[name] ?? name;
  return {
    title: `fatal signal: ${signal}`,
    type: "SIGNAL",
    frame: "",
    guiltyFile: "",
    frames: [],
    startLine: line,
    endLine: line,
    corrupted: false,
    corruptedReason: "",
  };
}

/** Go: "panic: msg" followed by "goroutine N [running]:" and "pkg.func(...)" frames. */
function goPanicCrash(log: string, starts: readonly number[], line: number, message: string): UserspaceCrash | null {
  const limit = Math.min(starts.length, line + 200);
  let i = line + 1;
  for (; i < limit && i < line + 6; i++) {
    if (/^goroutine \d+ \[/.test(lineText(log, starts, i))) break;
  }
  if (i >= limit || i >= line + 6) return null;
  const frames: string[] = [];
  let file = "";
  let end = i;
  for (i++; i < limit; i++) {
    const text = lineText(log, starts, i);
    if (text === "" || text.length > MAX_FRAME_LINE) break;
    end = i;
    const f = /^([\w./*()-]+?)\((?:.*)\)$/.exec(text);
    if (f?.[1] && !/^(?:runtime\.|panic$)/.test(f[1])) {
      frames.push(f[1]);
      if (frames.length === 1) {
        const loc = /^\s+(\S+\.go):\d+/.exec(lineText(log, starts, i + 1));
        file = loc?.[1] ?? "";
      }
    }
  }
  const frame = frames[0] ?? "";
  return {
    title: withFrame(`panic: ${message.replace(/\[[^\]]*\]/g, "").replace(/ with length \d+/, "")}`, frame),
    type: "PANIC",
    frame,
    guiltyFile: file,
    frames,
    startLine: line,
    endLine: end,
    corrupted: frames.length === 0,
    corruptedReason: frames.length === 0 ? "no frames in a stack trace" : "",
  };
}

/** Rust: "thread 'main' panicked at src/main.rs:2:5:\nmsg" (1.73+) or "... at 'msg', src/main.rs:2:5". */
function rustPanicCrash(log: string, starts: readonly number[], line: number, text: string): UserspaceCrash | null {
  let message = "";
  let location = "";
  let end = line;
  const old = /panicked at '(.*)', (\S+?):\d+(?::\d+)?$/.exec(text);
  const modern = /panicked at (\S+?):\d+(?::\d+)?:$/.exec(text);
  if (old) {
    message = old[1] ?? "";
    location = old[2] ?? "";
  } else if (modern) {
    location = modern[1] ?? "";
    message = lineText(log, starts, line + 1);
    end = Math.min(line + 1, starts.length - 1);
  } else {
    return null;
  }
  // With RUST_BACKTRACE set: "stack backtrace:" and "  N: path::to::fn" lines.
  const frames: string[] = [];
  if (lineText(log, starts, end + 1) === "stack backtrace:") {
    const limit = Math.min(starts.length, end + 200);
    for (let i = end + 2; i < limit; i++) {
      const t = lineText(log, starts, i);
      const f = /^\s+\d+: (\S+)/.exec(t);
      if (!f?.[1]) {
        if (/^\s+at /.test(t)) continue;
        break;
      }
      end = i;
      const name = f[1].replace(/::h[0-9a-f]{16}$/, "");
      if (!/^(?:__rustc::|rust_begin_unwind|core::|std::|alloc::|__rust_|_start|__libc_)/.test(name)) frames.push(name);
    }
  }
  const base = location.slice(location.lastIndexOf("/") + 1);
  const frame = frames[0] ?? "";
  return {
    title: withFrame(`panicked: ${message}`, frame !== "" ? frame : base),
    type: "PANIC",
    frame,
    guiltyFile: location,
    frames,
    startLine: line,
    endLine: end,
    corrupted: false,
    corruptedReason: "",
  };
}

// Cheap pre-filter: a line can only start a userspace report if it contains one of these.
const candidate =
  /Sanitizer|runtime error: |Assertion|Segmentation fault|Aborted|Killed|Bus error|Floating point exception|Illegal instruction|Trace\/breakpoint trap|panic: |panicked at /g;

/** Recognises a userspace crash starting at line `line`, or returns null. */
export interface UserspaceOptions {
  /**
   * Also recognise the reports a program writes about itself or a shell writes about it (assert
   * failures, Go/Rust panics, "Segmentation fault"), not only sanitizer reports.
   */
  programReports: boolean;
}

export function userspaceCrashAt(log: string, starts: readonly number[], line: number, options: UserspaceOptions = { programReports: true }): UserspaceCrash | null {
  const text = lineText(log, starts, line);
  if (text.length > MAX_FRAME_LINE) return null;
  const san = sanitizerHeader.exec(text);
  if (san) return sanitizerCrash(log, starts, line, san);
  const ub = ubsanLine(text);
  if (ub) return ubsanCrash(log, starts, line, ub.where, ub.message);
  if (!options.programReports) return null;
  // glibc: "prog: file.c:12: func: Assertion `cond' failed."
  const glibc = glibcAssertLine(text);
  if (glibc) return assertCrash(line, glibc.func, glibc.condition, glibc.file);
  // musl: "Assertion failed: cond (file.c: func: 12)"
  const musl = muslAssertLine(text);
  if (musl) return assertCrash(line, musl.func, musl.condition, musl.file);
  const sig = shellSignal.exec(text);
  const signal = sig?.[1] ?? sig?.[2];
  if (signal) return signalCrash(line, signal);
  const go = /^panic: (.*)$/.exec(text);
  if (go) return goPanicCrash(log, starts, line, go[1] ?? "");
  if (text.length <= 1024 && /^thread '.*'(?: \(\d+\))? panicked at /.test(text)) return rustPanicCrash(log, starts, line, text);
  return null;
}

/** The first userspace crash starting in [from, end) (offsets into the log), or null. */
export function findUserspaceCrash(
  log: string,
  starts: readonly number[],
  lineOf: (offset: number) => number,
  options: UserspaceOptions = { programReports: true },
  from = 0,
  end = log.length,
): CrashReport | null {
  candidate.lastIndex = from;
  let checked = -1;
  for (let m = candidate.exec(log); m && m.index < end; m = candidate.exec(log)) {
    const line = lineOf(m.index);
    if (line !== checked) {
      checked = line;
      const crash = userspaceCrashAt(log, starts, line, options);
      if (crash) return toReport(log, starts, crash);
    }
    // Continue at the next line: the rest of this one has been judged.
    const next = starts[line + 1];
    if (next === undefined) break;
    candidate.lastIndex = next;
  }
  return null;
}

function toReport(log: string, starts: readonly number[], crash: UserspaceCrash): CrashReport {
  const from = starts[crash.startLine] ?? 0;
  const next = starts[crash.endLine + 1];
  const report = log.slice(from, next === undefined ? log.length : next);
  return {
    title: crash.title,
    alt: [],
    type: crash.type,
    frame: crash.frame,
    guiltyFile: crash.guiltyFile,
    corrupted: crash.corrupted,
    corruptedReason: crash.corruptedReason,
    report,
    startLine: crash.startLine,
    endLine: crash.endLine,
    suppressed: false,
    crashState: crash.frames.slice(0, 3),
    frames: crash.frames.slice(0, MAX_FRAMES),
  };
}
