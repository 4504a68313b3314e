// `culprit parse [--json] FILE...`: what report/ makes of console logs, for humans or as JSON Lines.

import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { UserError } from "../core/errors.js";
import { parse, type CrashReport } from "../report/index.js";
import { checkReportTest, isReportTest, readReportTest, type CheckedField } from "../report/testfile.js";

function readLog(file: string): string {
  try {
    // "-" is standard input (file descriptor 0).
    return readFileSync(file === "-" ? 0 : file, "utf8");
  } catch (err) {
    const reason = err instanceof Error && "code" in err ? String(err.code) : String(err);
    throw new UserError(`cannot read ${file === "-" ? "standard input" : file}: ${reason}`, "pass console log files, or - for standard input");
  }
}

function summary(file: string, report: CrashReport | null): string {
  if (!report) return `${file}: no crash`;
  const facts = [
    report.type !== "" ? `type ${report.type}` : "",
    report.frame !== "" ? `frame ${report.frame}` : "",
    report.guiltyFile !== "" ? `file ${report.guiltyFile}` : "",
    `lines ${report.startLine + 1}-${report.endLine + 1}`,
    report.corrupted ? `corrupted: ${report.corruptedReason}` : "",
    report.suppressed ? "suppressed" : "",
  ].filter((f) => f !== "");
  const alt = report.alt.map((a) => `\n  also known as: ${a}`).join("");
  return `${file}: ${report.title}\n  ${facts.join(", ")}${alt}`;
}

/**
 * `--check`: each syzkaller report test file's log parsed and compared with its header, exactly
 * as the corpus test does; the misses, then per-field figures.
 */
function check(files: readonly string[]): void {
  const counts = new Map<CheckedField, { hit: number; total: number }>();
  for (const file of files) {
    const text = readLog(file);
    // A file that expects no crash has an empty header: it starts with the blank line.
    if (!isReportTest(text) && !/^\r?\n/.test(text)) {
      throw new UserError(`${file} is not a syzkaller report test file`, "--check reads files of a TITLE:/ALT:/TYPE:/CORRUPTED: header, a blank line and the console log");
    }
    const want = readReportTest(text);
    for (const c of checkReportTest(want, parse(want.log))) {
      const n = counts.get(c.field) ?? { hit: 0, total: 0 };
      n.total++;
      if (c.ok) n.hit++;
      else process.stdout.write(`${file}: ${c.field}: want ${c.want} got ${c.got}\n`);
      counts.set(c.field, n);
    }
  }
  for (const [field, n] of counts) process.stdout.write(`${field} ${n.hit}/${n.total} = ${((100 * n.hit) / n.total).toFixed(1)}%\n`);
}

export function registerParse(program: Command): void {
  program
    .command("parse")
    .description("find the first crash in console logs and print its title, type, guilty frame and file")
    .argument("<file...>", "console log files (- for standard input); of a syzkaller report test file, its log")
    .option("--json", "one JSON object per file per line (JSON Lines), with the extracted report")
    .option("--check", "syzkaller report test files: compare each with its header as the corpus test does; print misses and per-field figures")
    .action((files: string[], flags: { json?: boolean; check?: boolean }) => {
      if (flags.check) return check(files);
      for (const file of files) {
        const text = readLog(file);
        // A syzkaller report test file: its header quotes the expected titles; only the log is console output.
        const testFile = isReportTest(text);
        const report = parse(testFile ? readReportTest(text).log : text);
        const input = testFile ? { input: "syzkaller report test (its log)" } : {};
        const line = flags.json ? JSON.stringify({ file, crashed: report !== null, ...input, ...report }) : summary(testFile ? `${file} (its log)` : file, report);
        process.stdout.write(`${line}\n`);
      }
    });
}
