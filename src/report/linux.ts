// Linux kernel console logs: find the first oops, cut its report out of interleaved output
// (other CPUs, user programs, the fuzzer), and name it the way syzbot does.

import type { CrashReport } from "./types.js";
import { escapeRegExp, lineText } from "./text.js";
import { frameOfTitle, kernelTypeOfTitle, normaliseTitle } from "./titles.js";
import { infoMessagesWithStack, linuxOopses, reportStartIgnores, suppressions, type Oops, type OopsFormat } from "./oopses.js";
import { guiltyFrames, missingStackReason, stripSyscallPrefix, syscallPrefixes, type PickedFrame } from "./stack.js";
import { guiltyFileOf } from "./guilty.js";
import { demangle } from "./demangle.js";

/** Any oops header: a cheap first pass before the per-oops checks. */
const anyHeader = new RegExp(linuxOopses.map((o) => escapeRegExp(o.header)).join("|"), "g");
const anyHeaderOnLine = new RegExp(anyHeader.source);

function matchesAny(line: string, res: readonly RegExp[]): boolean {
  for (const re of res) if (re.test(line)) return true;
  return false;
}

/**
 * Longest stretch of a line that regular expressions look at. Kernel messages are far shorter;
 * the cap keeps backtracking patterns linear on megabyte-long garbage lines.
 */
const MATCH_WINDOW = 1024;

/** The part of `line` worth matching: all of it, or a window starting a little before `at`. */
export function matchWindow(line: string, at: number): string {
  if (line.length <= 2 * MATCH_WINDOW) return line;
  const from = Math.max(0, at - MATCH_WINDOW);
  return line.slice(from, from + 2 * MATCH_WINDOW);
}

/**
 * A bisection log's (syzbot's or culprit's) lines that quote a crash title: "run #0: crashed:
 * BUG: ...", "all runs: basic kernel testing failed: WARNING in ...". A quoted title is not a report.
 */
const bisectionLogLine = /^(?:run #\d+|all runs): (?:crashed|boot failed|basic (?:kernel )?testing failed|OK|infra problem|reproducer could not run)\b/;

export function oopsOfLine(line: string): Oops | null {
  const header = anyHeaderOnLine.exec(line);
  if (!header || bisectionLogLine.test(line)) return null;
  const text = matchWindow(line, header.index);
  for (const oops of linuxOopses) {
    if (text.includes(oops.header) && !matchesAny(text, oops.ignore)) return oops;
  }
  return null;
}

/** A kernel message re-printed after the next line is not a new report. */
function replayedAt(log: string, starts: readonly number[], line: number): boolean {
  return line + 1 < starts.length && lineText(log, starts, line + 1).includes("** replaying previous printk message **");
}

// ----- console line prefixes -----

const timestampAt = /(?:<\d+>)?\[ *\d+\.\d+\](\[ *[CT]\d+\])? /y;

/**
 * Who printed a line: "" (no timestamp), "console" (timestamp only) or the "[  T123]"/"[ C1]"
 * task/CPU marker of CONFIG_PRINTK_CALLER. Lines of one report share it.
 */
export function contextOf(line: string): string {
  const tryAt = (pos: number): string | null => {
    timestampAt.lastIndex = pos;
    const m = timestampAt.exec(line);
    if (!m) return null;
    return m[1] ?? "console";
  };
  const bases: number[] = [];
  const dropped = /^\*\* \d+ printk messages dropped \*\* /.exec(line);
  if (dropped) bases.push(dropped[0].length);
  bases.push(0);
  for (const base of bases) {
    // A login prompt can precede the timestamp on the same line; the last one wins.
    let at = line.lastIndexOf(" login: ");
    while (at >= base) {
      const ctx = tryAt(at + 8);
      if (ctx !== null) return ctx;
      at = at === 0 ? -1 : line.lastIndexOf(" login: ", at - 1);
    }
    const ctx = tryAt(base);
    if (ctx !== null) return ctx;
  }
  return "";
}

const taskContext = /\[ *T\d+\]/;
const cpuContext = /\[ *C\d+\]/;

/** The message without its timestamp; `questionable` for "? frame" lines the unwinder is unsure of. */
function stripPrefix(line: string, context: string): { text: string; questionable: boolean } {
  if (context === "") return { text: line, questionable: false };
  const text = line.slice(line.indexOf("] ") + 2);
  if (!text.includes("<EOI>")) {
    const q = text.indexOf(" ? ");
    if (q !== -1) return { text: text.slice(q + 2), questionable: true };
    if (text.endsWith(" (unreliable)")) return { text: text.slice(0, -13), questionable: true };
  }
  return { text, questionable: false };
}

// ----- finding the report -----

/** Frames kept for graded crash identity: the guilty one and the callers that say where it ran. */
const MAX_FRAMES = 6;

/**
 * syzkaller reads a report to the end of the log (its stack may come after any amount of other
 * output). The reports of one log share a budget of lines read, and each may read at least
 * MIN_REPORT_LINES of them, so reading every report of a log stays linear however many it holds.
 */
const READ_BUDGET = 200_000;
const MIN_REPORT_LINES = 5000;
/** Bounds the look back for the lines printed just before a report. */
const MAX_PREFIX_SCAN = 2000;

interface Found {
  oops: Oops;
  line: number;
}

function firstOops(log: string, starts: readonly number[], lineOf: (offset: number) => number, fromLine = 0): Found | null {
  anyHeader.lastIndex = starts[fromLine] ?? log.length;
  for (let m = anyHeader.exec(log); m; m = anyHeader.exec(log)) {
    const line = lineOf(m.index);
    const oops = oopsOfLine(lineText(log, starts, line));
    if (oops && !replayedAt(log, starts, line)) return { oops, line };
    const next = starts[line + 1];
    if (next === undefined) break;
    anyHeader.lastIndex = next;
  }
  return null;
}

interface Extracted {
  /** Lines of the report proper (prefix excluded). */
  lines: string[];
  /** How many of `lines` belong to this report before a second one starts. */
  titleLines: number;
  prefix: string[];
  endLine: number;
  /** Where the log's next report can start: a second report's first line, else past what was read. */
  nextLine: number;
  /** Lines read from the report's first line on. */
  read: number;
}

function minLinesBeforePanic(oopsLine: string): number {
  // KMSAN reports lack "Call Trace:" and friends, so they are shorter.
  return oopsLine.includes("BUG: KMSAN:") ? 16 : 22;
}

function extractReport(log: string, starts: readonly number[], start: number, maxLines: number): Extracted {
  const oopsLine = lineText(log, starts, start);
  const context = contextOf(oopsLine);
  // With CONFIG_PRINTK_CALLER the preceding lines of the same task are reliably ours.
  const maxPrefix = taskContext.test(context) ? 50 : 5;
  const prefix: string[] = [];
  for (let i = start - 1; i >= 0 && i >= start - MAX_PREFIX_SCAN && prefix.length < maxPrefix; i--) {
    const line = lineText(log, starts, i);
    if (contextOf(line) !== context) continue;
    const { text, questionable } = stripPrefix(line, context);
    if (text.length !== 0 && !questionable) prefix.unshift(text);
  }

  const lines: string[] = [];
  let titleLines = 0;
  let secondReport = -1;
  let textLines = 0;
  let skipRest = false;
  let cpuTraceback = false;
  let endLine = start;
  const realContext = context !== "" && context !== "console";
  const limit = Math.min(starts.length, start + maxLines);
  for (let i = start; i < limit; i++) {
    const line = lineText(log, starts, i);
    const isOopsLine = i === start;
    const ctx = contextOf(line);
    const { text, questionable } = stripPrefix(line, ctx);
    if (!isOopsLine && secondReport === -1) {
      // Another oops (unless it is one that continues this report), or a non-bug message that
      // carries its own stack: either way, what follows is no longer only this report.
      const oops = oopsOfLine(line);
      const another = oops !== null && !replayedAt(log, starts, i) && !matchesAny(line, reportStartIgnores);
      if (another || infoMessagesWithStack.some((m) => line.includes(m))) secondReport = i;
    }
    if (!isOopsLine && (questionable || (ctx !== context && (!cpuTraceback || !cpuContext.test(ctx))))) continue;
    textLines++;
    let skipLine = skipRest;
    if (line.includes("Disabling lock debugging due to kernel taint")) {
      skipLine = true;
    } else if (line.includes("Sending NMI from CPU")) {
      // All CPUs' backtraces belong to the report, whatever their context.
      cpuTraceback = true;
    } else if (
      (line.includes("Kernel panic - not syncing") || line.includes("WARNING: possible circular locking dependency detected")) &&
      textLines > minLinesBeforePanic(oopsLine)
    ) {
      // panic_on_warn's second stack and lockdep reports caused by the oops printing itself only
      // repeat what the report already says.
      skipRest = true;
      skipLine = true;
    }
    if (!isOopsLine && skipLine) continue;
    lines.push(text);
    endLine = i;
    if (secondReport === -1 || realContext) titleLines = lines.length;
  }
  return { lines, titleLines, prefix, endLine, nextLine: secondReport === -1 ? limit : secondReport, read: limit - start };
}

const suppressionAnchors = new RegExp([...new Set(suppressions.map((x) => x.anchor))].map(escapeRegExp).join("|"), "g");

/** Whether the log shows a crash the fuzzer caused itself, anywhere in it (one pass). */
function isSuppressed(log: string, starts: readonly number[], lineOf: (offset: number) => number): boolean {
  suppressionAnchors.lastIndex = 0;
  for (let m = suppressionAnchors.exec(log); m; m = suppressionAnchors.exec(log)) {
    const line = lineOf(m.index);
    // Each line is checked once, in a window: linear however the log looks.
    const text = matchWindow(lineText(log, starts, line), m.index - (starts[line] ?? 0));
    if (suppressions.some(({ anchor, pattern }) => text.includes(anchor) && pattern.test(text))) return true;
    const next = starts[line + 1];
    if (next === undefined) break;
    suppressionAnchors.lastIndex = next;
  }
  return false;
}

// ----- titles -----

function format(template: string, args: readonly string[]): string {
  return template.replace(/%(\d)/g, (_, n: string) => args[Number(n) - 1] ?? "");
}

interface Description {
  title: string;
  alt: string[];
  corruptedReason: string;
  format: OopsFormat | null;
  /** Some format's title pattern matched, even if its report pattern then did not. */
  matchedTitle: boolean;
}

interface Position {
  line: number;
  column: number;
}

function before(a: Position, b: Position): boolean {
  return a.line < b.line || (a.line === b.line && a.column < b.column);
}

function search(lines: readonly string[], candidates: readonly number[], re: RegExp, span = 0): { at: Position; match: RegExpExecArray } | null {
  for (const i of candidates) {
    const text = span === 0 ? (lines[i] ?? "") : lines.slice(i, i + 1 + span).join("\n");
    const m = re.exec(text);
    // A match starting on a later joined line is found again from that line.
    if (m && (span === 0 || !text.slice(0, m.index).includes("\n"))) return { at: { line: i, column: m.index }, match: m };
  }
  return null;
}

/**
 * Characters of a line a report pattern looks at: the parts they find ("Read of size", a lock's
 * "at: f+0x..", a source file) start report lines, and some patterns backtrack quadratically on
 * long runs of name characters. Any number of lines may lie between two parts, as in syzkaller.
 */
const STEP_LINE = 256;

/** The report patterns in order, each on a later line than the previous. */
function matchSteps(lines: readonly string[], steps: readonly RegExp[]): { at: Position; captures: string[] } | null {
  let at: Position | null = null;
  const captures: string[] = [];
  let from = 0;
  for (const step of steps) {
    let found = false;
    for (let i = from; i < lines.length; i++) {
      const m = step.exec((lines[i] ?? "").slice(0, STEP_LINE));
      if (!m) continue;
      if (at === null) at = { line: i, column: m.index };
      for (let g = 1; g < m.length; g++) captures.push(m[g] ?? "");
      from = i + 1;
      found = true;
      break;
    }
    if (!found) return null;
  }
  return at && { at, captures };
}

/** Alternative titles from frames with each syscall prefix removed (and as printed). */
function partiallyStripped(captures: readonly string[], frames: readonly PickedFrame[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i <= syscallPrefixes.length; i++) {
    const prefix = i === 0 ? "" : (syscallPrefixes[i - 1] ?? "");
    let changed = i === 0;
    const list = frames.map((f) => {
      const trimmed = prefix !== "" && f.raw.startsWith(prefix) ? f.raw.slice(prefix.length) : f.raw;
      if (trimmed !== f.raw) changed = true;
      return trimmed;
    });
    if (changed) out.push([...captures, ...list]);
  }
  return out;
}

/** Titles are looked for on at most this many header lines: they are at the top of a report. */
const MAX_TITLE_CANDIDATES = 100;

function describe(full: readonly string[], oops: Oops): Description {
  // Lines with the header are windowed from the header on, all others from their start.
  const lines = full.map((line) => {
    if (line.length <= MATCH_WINDOW) return line;
    const at = line.indexOf(oops.header);
    return at === -1 ? line.slice(0, MATCH_WINDOW) : line.slice(at, at + MATCH_WINDOW);
  });
  const candidates: number[] = [];
  for (let i = 0; i < lines.length && candidates.length < MAX_TITLE_CANDIDATES; i++) {
    if ((lines[i] ?? "").includes(oops.header)) candidates.push(i);
  }
  let best: Position = { line: Infinity, column: 0 };
  let title = "";
  let alt: string[] = [];
  let corruptedReason = "";
  let chosen: OopsFormat | null = null;
  let matchedTitle = false;
  for (const f of oops.formats) {
    const t = search(lines, candidates, f.title, f.titleSpan);
    if (!t || before(best, t.at)) continue;
    if (!before(t.at, best) && title !== "") continue;
    if (before(t.at, best)) {
      title = "";
      chosen = null;
      best = t.at;
    }
    matchedTitle = true;
    let at = t.at;
    let captures = t.match.slice(1).map((c) => c ?? "");
    if (f.report) {
      const r = matchSteps(lines, f.report);
      if (!r) continue;
      at = r.at;
      captures = r.captures;
    }
    let frames: PickedFrame[] = [];
    corruptedReason = "";
    if (f.stack) {
      const from = [(lines[at.line] ?? "").slice(at.column), ...lines.slice(at.line + 1)];
      const picked = guiltyFrames(from, f.stack);
      frames = picked.frames;
      if (!picked.ok) corruptedReason = "extracted no frames";
    }
    title = format(f.fmt, [...captures, ...frames.map((fr) => fr.canonical)]);
    for (const a of f.alt ?? []) alt.push(format(a, [...captures, ...frames.map((fr) => fr.canonical)]));
    for (const args of partiallyStripped(captures, frames)) {
      const altTitle = format(f.fmt, args);
      if (altTitle !== title) alt.push(altTitle);
      for (const a of f.alt ?? []) alt.push(format(a, args));
    }
    alt = [...new Set(alt)];
    chosen = f;
  }
  if (title === "") {
    if (matchedTitle) corruptedReason = "matched title but not report regexp";
    const line = lines.find((l) => l.includes(oops.header));
    if (line === undefined) return { title: "", alt, corruptedReason, format: null, matchedTitle };
    // No format fits: the title is the header line itself, from the header on.
    title = line.slice(line.indexOf(oops.header));
  }
  if (corruptedReason === "" && chosen?.corrupted) corruptedReason = "report format is marked as corrupted";
  return { title, alt, corruptedReason, format: chosen, matchedTitle };
}

/** Why a report is garbled, or "" when it is not. */
function corruption(title: string, report: string, format: OopsFormat | null): string {
  // A timestamp in the middle of the title: two lines were merged.
  if (/\[ *\d+\.\d+\]/.test(title)) return "title matches corrupted regexp";
  if (format === null || format.noStackTrace) return "";
  return missingStackReason(report);
}

// Signs that a log comes from a kernel console (or syzkaller's Go tools) rather than from a
// userspace program that happens to print "WARNING: ..." or "fatal error: ...".
const consoleTimestamp = /(?:^|\n)(?:<\d+>)?\[ *\d+\.\d+\]/;
const kernelTrace = /Call Trace|Call trace| Comm: |RIP: |Backtrace:|backtrace:|Modules linked in|Kernel panic/;
const goRuntimeTrace = /goroutine \d+ \[|runtime stack:/;

/** Candidate oopses tried in a log without console evidence before giving up (bounds the work). */
const MAX_PLAIN_LOG_ATTEMPTS = 64;

/**
 * Reports named only after their header line, or after Go-style "panic:"/"fatal error:" lines,
 * are believed only with evidence that the log is a kernel console (or a Go program's crash):
 * in a plain program's output they are ordinary messages, not crashes.
 */
function believable(crash: KernelCandidate, log: string, evidence: () => boolean): boolean {
  switch (crash.strength) {
    case "format":
      return true;
    case "header-only":
      return evidence();
    case "go-style":
      return evidence() || goRuntimeTrace.test(crash.report.report);
  }
}

interface KernelCandidate {
  report: CrashReport;
  /** How the title was made: by a format, from the bare header line, or by a Go-style rule. */
  strength: "format" | "header-only" | "go-style";
  nextLine: number;
}

/** A kernel report and where the log's next report can start. */
export interface KernelFind {
  report: CrashReport;
  nextLine: number;
}

/**
 * Finds kernel reports in one log, front to back. Whole-log facts (console evidence, suppression)
 * are computed once, so reading every report of a log stays linear in its size.
 */
export class KernelScanner {
  private evidence: boolean | null = null;
  private suppressed: boolean | null = null;
  private budget = READ_BUDGET;

  constructor(
    private readonly log: string,
    private readonly starts: readonly number[],
    private readonly lineOf: (offset: number) => number,
  ) {}

  private hasEvidence(): boolean {
    return (this.evidence ??= consoleTimestamp.test(this.log.slice(0, 1 << 20)) || kernelTrace.test(this.log));
  }

  /** The first believable kernel report starting at line `fromLine` or later, or null. */
  next(fromLine: number): KernelFind | null {
    const { log, starts, lineOf } = this;
    let from = fromLine;
    for (let attempt = 0; attempt < MAX_PLAIN_LOG_ATTEMPTS; attempt++) {
      const found = firstOops(log, starts, lineOf, from);
      if (!found) return null;
      const extracted = extractReport(log, starts, found.line, Math.max(MIN_REPORT_LINES, this.budget));
      this.budget -= extracted.read;
      const candidate = kernelReport(log, starts, found, extracted);
      if (believable(candidate, log, () => this.hasEvidence())) {
        // Suppression is a fact of the whole log: looked up once, for the reports returned.
        this.suppressed ??= isSuppressed(log, starts, lineOf);
        return { report: { ...candidate.report, suppressed: this.suppressed }, nextLine: candidate.nextLine };
      }
      from = found.line + 1;
    }
    return null;
  }
}

function kernelReport(log: string, starts: readonly number[], found: Found, extracted: Extracted): KernelCandidate {
  const { oops, line } = found;
  let description = describe(extracted.lines.slice(0, extracted.titleLines), oops);
  if (description.title === "") {
    // The header was cut off with the line prefix ("login: [ 1.2] ..." mid-line): use raw lines.
    const raw: string[] = [];
    for (let i = line; i <= extracted.endLine; i++) raw.push(lineText(log, starts, i));
    description = describe(raw, oops);
  }
  if (description.title === "") description = { ...description, title: oops.header };
  // Lines joined the way they were printed, with the trailing newline the corruption checks count.
  const body = extracted.lines.join("\n") + "\n";
  let corruptedReason = description.corruptedReason;
  if (corruptedReason === "") corruptedReason = corruption(description.title, body, description.format);
  // A GCE console that dropped mid-report leaves it truncated.
  if (corruptedReason === "" && log.includes("serialport: VM disconnected.")) corruptedReason = "console disconnected";
  const title = normaliseTitle(description.title);
  const alt = description.alt.map(normaliseTitle);
  const report: CrashReport = {
    title,
    alt,
    type: kernelTypeOfTitle(title),
    frame: frameOfTitle(title),
    guiltyFile: guiltyFileOf(title, body),
    corrupted: corruptedReason !== "",
    corruptedReason,
    report: (extracted.prefix.length > 0 ? extracted.prefix.join("\n") + "\n" : "") + body,
    startLine: line,
    endLine: extracted.endLine,
    suppressed: false,
    crashState: [],
    frames: [],
  };
  const chain = callChainOf(report.frame, extracted.lines, MAX_FRAMES);
  report.crashState = chain.slice(0, 3);
  // "corrupted" names no function: two corrupted reports share nothing.
  report.frames = report.frame === "corrupted" ? [] : chain;
  const goStyle = oops.header === "panic:" || oops.header === "fatal error:";
  // A format's title pattern names a kernel report even when the rest of the report was lost.
  const strength = description.format === null && !description.matchedTitle ? "header-only" : goStyle ? "go-style" : "format";
  return { report, strength, nextLine: extracted.nextLine };
}

/**
 * The guilty frame and up to `max - 1` frames that called it, from the first stack that contains
 * it; just the frame when no stack does. ClusterFuzz's crash state is the first three.
 */
function callChainOf(frame: string, lines: readonly string[], max: number): string[] {
  if (frame === "") return [];
  const names: string[] = [];
  for (const line of lines) {
    const m = frameLine.exec(line);
    names.push(m?.[1] ? stripSyscallPrefix(demangle(m[1])) : "");
  }
  let at = names.indexOf(frame);
  if (at === -1) {
    // The guilty frame came from the instruction pointer line; the call trace holds its callers.
    at = lines.findIndex((line) => callTraceLine.test(line));
    if (at === -1) return [frame];
  }
  const chain = [frame];
  for (let i = at + 1; i < names.length && chain.length < max; i++) {
    const name = names[i] ?? "";
    // "<IRQ>", "</TASK>": where the stack changes context, not where it ends.
    if (name === "" && contextMarker.test(lines[i] ?? "")) continue;
    if (name === "") break;
    chain.push(name);
  }
  return chain;
}

const callTraceLine = /^Call (?:T|t)race:/;
const contextMarker = /^ *<\/?[A-Z]+>$/;

// A frame line, inlined ("f file.c:12 [inline]") or not ("f+0x1/0x2 file.c:12").
const frameLine = /^ +(?:\[<?(?:0x)?[0-9a-f]+>?\] ){0,2}([a-zA-Z_][a-zA-Z0-9_]*)(?:\.[a-z0-9.]+)?(?:\+0x[0-9a-f]+\/0x[0-9a-f]+)?(?: |$)/;
