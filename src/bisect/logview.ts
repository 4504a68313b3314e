// The human log: a view of the event log in the format of syzbot's bisection logs,
// line for line where a line has an equivalent there.

import { goDuration } from "../core/duration.js";
import { describeRun, observationKey, type RunOutcome } from "../core/outcome.js";
import type { BisectEvent } from "./events.js";
import type { BisectResult } from "./result.js";

export class LogView {
  /** Runs finished but not printed yet, per commit+remedies: printed together as "all runs" when alike. */
  private readonly pending = new Map<string, { index: number; outcome: RunOutcome }[]>();
  /** What was said about each commit+remedies already: its "all runs" line, the output tails shown. */
  private readonly said = new Map<string, { allRuns?: string; tails: Set<string> }>();
  /** The accelerator the runs said so far were made with. */
  private accel?: string;

  constructor(private readonly resumeHint?: string) {}

  lines(event: BisectEvent): string[] {
    switch (event.type) {
      case "started": {
        const what = event.kind === "cause" ? `bisecting cause commit starting from ${event.start}` : `bisecting fixing commit since ${event.start}`;
        return [event.resumed ? `resuming: ${what}` : what];
      }
      case "note":
        return noteLines(event);
      case "problem":
      case "tests-started":
        // Bookkeeping for resume; the notes and run lines already say it for people.
        return [];
      case "build-started":
        return [`testing commit ${event.commit}${event.remedies.length ? ` (${event.remedies.join(", ")})` : ""} with ${event.toolchain}`];
      case "build-finished":
        if (event.build.kind === "ok") return [`${event.signatureLabel} signature: ${event.build.signature}`];
        return ["build failed:", ...event.build.excerpt.split("\n").map((l) => `  ${l}`)];
      case "run-finished": {
        const key = observationKey(event.commit, event.remedies);
        const list = this.pending.get(key) ?? [];
        list.push({ index: event.index, outcome: event.outcome });
        this.pending.set(key, list);
        // Said once, and again only if it changes (a resume on another machine).
        if (event.accel === undefined || event.accel === this.accel) return [];
        this.accel = event.accel;
        return [`test machines: QEMU with ${event.accel === "kvm" ? "KVM" : "TCG (no KVM)"}`];
      }
      case "tests-finished": {
        const key = observationKey(event.commit, event.remedies);
        const runs = (this.pending.get(key) ?? []).sort((a, b) => a.index - b.index);
        this.pending.delete(key);
        const said = this.said.get(key) ?? { tails: new Set<string>() };
        this.said.set(key, said);
        return [...runLines(runs, said), ...tailLines(runs, said.tails)];
      }
      case "interrupted":
        return [this.resumeHint ? `interrupted; continue with: ${this.resumeHint}` : "interrupted"];
      case "finished":
        return resultLines(event.result);
    }
  }
}

/** Alike runs are one "all runs" line per commit, however many batches it took (a later alike batch adds nothing). */
function runLines(runs: { index: number; outcome: RunOutcome }[], said: { allRuns?: string }): string[] {
  if (runs.length === 0) return [];
  const described = runs.map((r) => describeRun(r.outcome));
  const alike = described.every((d) => d === described[0]);
  if (alike && said.allRuns === described[0]) return [];
  if (alike && said.allRuns === undefined && runs.length > 1) {
    said.allRuns = described[0] as string;
    return [`all runs: ${said.allRuns}`];
  }
  // From here on this commit's runs differ: the earlier "all runs" line no longer covers them.
  said.allRuns = "";
  return runs.map((r, i) => `run #${r.index}: ${described[i]}`);
}

/** Why the reproducer could not run: the end of its output, once per commit for each distinct ending. */
function tailLines(runs: readonly { outcome: RunOutcome }[], shown: Set<string>): string[] {
  const lines: string[] = [];
  for (const { outcome } of runs) {
    if (outcome.kind !== "untestable" || outcome.tail === "" || shown.has(outcome.tail)) continue;
    shown.add(outcome.tail);
    lines.push(...outcome.tail.split("\n").map((l) => `  ${l}`));
  }
  return lines;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function noteLines(event: Extract<BisectEvent, { type: "note" }>): string[] {
  const note = event.note;
  switch (note.kind) {
    case "release":
      return [`testing release ${note.tag}`];
    case "target":
      return [`target crash: ${note.crash.title}`];
    case "bisect-start":
      return [`# git bisect start ${note.bad} ${note.good.join(" ")}`];
    case "bisect-step":
      return [
        `Bisecting: ${plural(note.revisionsLeft, "revision")} left to test after this (roughly ${plural(note.stepsLeft, "step")})`,
        `[${note.commit}] ${event.title ?? ""}`,
        "",
      ];
    case "verdict":
      return [`# git bisect ${note.verdict} ${note.commit}`];
    case "info":
      return [note.text];
  }
}

/** A long candidate list keeps its ends; the whole list is in the JSON result. */
export function abridged(lines: readonly string[], keep = 10): string[] {
  if (lines.length <= 3 * keep) return [...lines];
  return [...lines.slice(0, keep), `… ${lines.length - 2 * keep} more (all of them in result.json) …`, ...lines.slice(-keep)];
}

/** How far back the search looked, in one line. */
export function searchedLine(result: BisectResult): string[] {
  const s = result.searched;
  const first = s?.oldest[0];
  if (!s || !first) return [];
  const at = `${first.hash} (${first.date})`;
  const more = s.oldest.length > 1 ? ` and ${s.oldest.length - 1} more` : "";
  switch (s.bound) {
    case "good":
      return [`searched back to the good commit ${at}`];
    case "release":
      return [`searched back to release ${s.tag ?? ""} ${at}, the newest clean release`];
    case "oldest":
      return [`searched back to the oldest commit allowed ${at}`];
    case "roots":
      return [`searched back to the repository's first commit ${at}${more}`];
    case "range":
      return [`searched back to ${at}${more}`];
  }
}

/** Longer candidate lists are printed as ranges only. */
const LIST_AT_MOST = 20;

/** One range of an inconclusive answer, and what its commits showed. */
export function rangeLine(range: NonNullable<BisectResult["candidateRanges"]>[number], what: "bad" | "fixing"): string {
  const s = range.status;
  const parts: string[] = [];
  if (s.target > 0) parts.push(`${s.target} show${s.target === 1 ? "s" : ""} the target`);
  if (s.masked > 0) parts.push(`${s.masked} crash${s.masked === 1 ? "es" : ""} first with "${range.maskedBy ?? "another crash"}" before the target can show`);
  if (s.broken > 0) parts.push(`${s.broken} do${s.broken === 1 ? "es" : ""} not build`);
  if (s.unusable > 0) parts.push(`${s.unusable} could not be used (boot, infrastructure or reproducer trouble)`);
  if (s.clean > 0) parts.push(`${s.clean} ran clean`);
  if (s.untested > 0) parts.push(`${s.untested} ${s.untested === 1 ? "was" : "were"} not tested`);
  const ends = range.oldestEnds ?? [range.oldest];
  // A range with two roots is two stretches that meet: each is named from its own oldest end.
  const span =
    range.commits === 1
      ? `${range.newest.hash} ${range.newest.title}`
      : ends.length === 1
        ? `${range.oldest.hash}..${range.newest.hash} (${range.commits} commits, both ends included)`
        : `${ends.map((e) => `${e.hash}..${range.newest.hash}`).join(" and ")} (${range.commits} commits in all, every end included)`;
  const edge = range.maskedBelowNewest ? `; everything older than ${range.newest.hash} that was tested crashes first with "${range.maskedBy ?? "another crash"}" before the target can show` : "";
  return `first ${what} commit in ${span}: ${parts.join(", ")}${edge}`;
}

function timeLine(result: BisectResult): string {
  const { totalMs, buildMs, testMs } = result.time;
  return `revisions tested: ${result.revisionsTested}, total time: ${goDuration(totalMs)} (build: ${goDuration(buildMs)}, test: ${goDuration(testMs)})`;
}

function quoted(list: readonly string[]): string {
  return `[${list.map((a) => JSON.stringify(a)).join(" ")}]`;
}

function crashLines(result: BisectResult): string[] {
  if (!result.report) return [];
  return [`crash: ${result.report.title}`, ...(result.report.text ? [result.report.text.replace(/\n+$/, "")] : [])];
}

export function resultLines(result: BisectResult): string[] {
  const confidence = `confidence: ${(result.confidence * 100).toFixed(1)}%`;
  switch (result.outcome) {
    case "culprit": {
      const c = result.culprit;
      if (!c) return [];
      const fix = result.kind === "fix";
      const lines = [
        fix ? `${c.hash} is the first commit without the crash` : `${c.hash} is the first bad commit`,
        `commit ${c.hash}`,
        ...(c.parents.length > 1 ? [`Merge: ${c.parents.map((p) => p.slice(0, 12)).join(" ")}`] : []),
        `Author: ${c.author.name} <${c.author.email}>`,
        `Date:   ${c.date}`,
        "",
        ...c.message.split("\n").map((l) => `    ${l}`),
        "",
        ...(c.diffstat ? [c.diffstat, ""] : []),
        `culprit signature: ${c.signature ?? "unknown"}`,
        `parent  signature: ${c.parentSignature ?? "unknown"}`,
      ];
      if (result.noop) lines.push("the culprit does not change the build (same signature as its parent): the result is likely wrong");
      if (result.merge) lines.push("the culprit is a merge commit");
      if (result.release) lines.push(`the culprit is a release (${c.releaseTags.join(", ")})`);
      lines.push(
        ...searchedLine(result),
        timeLine(result),
        `${fix ? "first fixing commit" : "first bad commit"}: ${c.hash} ${c.title}`,
        confidence,
        `recipients (to): ${quoted(result.recipients.to)}`,
        `recipients (cc): ${quoted(result.recipients.cc)}`,
        ...crashLines(result),
      );
      return lines;
    }
    case "inconclusive": {
      const what = result.kind === "fix" ? "fixing" : "bad";
      const ranges = (result.candidateRanges ?? []).map((r) => rangeLine(r, what));
      // Hundreds of hashes tell a reader nothing; the stretches they form and why do.
      if (result.candidates.length > LIST_AT_MOST && ranges.length > 0) {
        return [
          "There are only 'skip'ped commits left to test.",
          `The first ${what} commit is one of ${result.candidates.length} commits (all of them in result.json):`,
          ...ranges,
          "We cannot bisect more!",
          ...searchedLine(result),
          timeLine(result),
          `bisection is inconclusive, the first ${what} commit is in ${ranges.length === 1 ? "this range" : `one of these ${ranges.length} ranges`}:`,
          ...ranges,
          confidence,
          ...crashLines(result),
        ];
      }
      return [
        "There are only 'skip'ped commits left to test.",
        `The first ${what} commit could be any of:`,
        ...abridged(result.candidates.map((c) => c.hash)),
        "We cannot bisect more!",
        ...searchedLine(result),
        timeLine(result),
        `bisection is inconclusive, the first ${what} commit could be any of:`,
        ...abridged(result.candidates.map((c) => `${c.hash} ${c.title}`)),
        ...(ranges.length > 1 ? ranges : []),
        confidence,
        ...crashLines(result),
      ];
    }
    case "no-culprit":
    case "error":
      return [...searchedLine(result), timeLine(result), `no culprit: ${result.detail ?? result.reason ?? "unknown"}`, ...crashLines(result)];
  }
}
