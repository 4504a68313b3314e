// syzkaller's report test files (pkg/report/testdata/<os>/report/N, and our corpus): a header
// block of expected results, a blank line, the console log, and optionally a blank line, "REPORT:"
// and the expected extracted report. Only the log is console output: the header quotes titles
// ("TITLE: BUG: ...", "TITLE: kernel panic: ...") that a parser would take for the crash itself.

import type { CrashReport } from "./types.js";

export interface ReportTest {
  /** "" when the file expects no crash. */
  title: string;
  /** Sorted: the alternative titles are a set. */
  alt: string[];
  type: string;
  /** "" when the file does not say. */
  frame: string;
  corrupted: boolean;
  suppressed: boolean;
  /** Text of the report's first line (START:), "" when not given. */
  start: string;
  /** The console log, ending with a newline. */
  log: string;
  /** The expected extracted report, when the file has a REPORT: section. */
  report: string | null;
}

const headerLine = /^(?:(?:TITLE|ALT|TYPE|FRAME|CORRUPTED|SUPPRESSED|PANICKED|EXECUTOR|START|END): |#)/;

/**
 * Whether `text` is a report test file that states at least one expectation. A file whose header
 * block is empty (it starts with a blank line: no crash expected) reads the same either way.
 */
export function isReportTest(text: string): boolean {
  const end = text.indexOf("\n\n");
  if (end <= 0) return false;
  return text.slice(0, end).replaceAll("\r", "").split("\n").every((line) => headerLine.test(line));
}

export function readReportTest(text: string): ReportTest {
  // syzkaller's test drops every carriage return: its console merger does too.
  const lines = text.replaceAll("\r", "").split("\n");
  const test: ReportTest = { title: "", alt: [], type: "", frame: "", corrupted: false, suppressed: false, start: "", log: "", report: null };
  let i = 0;
  for (; i < lines.length && lines[i] !== ""; i++) {
    const line = lines[i] ?? "";
    const field = (prefix: string): string | null => (line.startsWith(prefix) ? line.slice(prefix.length) : null);
    test.title = field("TITLE: ") ?? test.title;
    const alt = field("ALT: ");
    if (alt !== null) test.alt.push(alt);
    test.type = field("TYPE: ") ?? test.type;
    test.frame = field("FRAME: ") ?? test.frame;
    test.start = field("START: ") ?? test.start;
    if (field("CORRUPTED: ") === "Y") test.corrupted = true;
    if (field("SUPPRESSED: ") === "Y") test.suppressed = true;
  }
  const log: string[] = [];
  let prevEmpty = false;
  for (i++; i < lines.length; i++) {
    const line = lines[i] ?? "";
    if (prevEmpty && line === "REPORT:") {
      test.report = lines.slice(i + 1).join("\n");
      break;
    }
    log.push(line);
    prevEmpty = line === "";
  }
  test.log = log.join("\n");
  if (!test.log.endsWith("\n")) test.log += "\n";
  test.alt.sort();
  return test;
}

/** The fields issue 9's acceptance counts, plus "no-crash" for files that expect none. */
export type CheckedField = "title" | "alt" | "type" | "corrupted" | "no-crash";

export interface FieldCheck {
  field: CheckedField;
  ok: boolean;
  want: string;
  got: string;
}

/**
 * How a parse of the file's log compares with what the file expects: title, alternative titles
 * (as a sorted set), type and corrupted flag for a crash; for a file expecting none, that none
 * was found.
 */
export function checkReportTest(want: ReportTest, got: CrashReport | null): FieldCheck[] {
  if (want.title === "") return [{ field: "no-crash", ok: got === null, want: "no crash", got: got?.title ?? "no crash" }];
  const gotAlt = JSON.stringify([...(got?.alt ?? [])].sort());
  const gotCorrupted = got?.corrupted ?? false;
  return [
    { field: "title", ok: got?.title === want.title, want: want.title, got: got?.title ?? "no crash" },
    { field: "alt", ok: gotAlt === JSON.stringify(want.alt), want: JSON.stringify(want.alt), got: gotAlt },
    { field: "type", ok: (got?.type ?? "") === want.type, want: want.type, got: got?.type ?? "" },
    { field: "corrupted", ok: gotCorrupted === want.corrupted, want: String(want.corrupted), got: gotCorrupted ? `true (${got?.corruptedReason ?? ""})` : "false" },
  ];
}
