// npm run bench:parse — how fast report/ reads console logs.
// 1. Scanning: a ≥100 MB console log of clean kernel lines from the corpus with a few reports
//    (the first near the end, so the whole log is scanned), written to a temp dir and read back.
// 2. Per report: every crash log of the corpus parsed on its own; median and p95 milliseconds.
// 3. Linearity: pathological inputs (megabyte lines, repeated headers) at 1, 2 and 5 MB.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAll } from "../src/report/index.js";
import { pathological } from "../src/report/pathological.js";
import { readReportTest } from "../src/report/testfile.js";

const TARGET_BYTES = 100 * 1024 * 1024;

function corpusDir(): string {
  if (process.env.CULPRIT_CORPUS) return join(process.env.CULPRIT_CORPUS, "linux", "report");
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = resolve(dir, "..", "shared", "corpus", "linux", "report");
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, "..");
  }
  throw new Error("corpus not found: set CULPRIT_CORPUS to the corpus directory");
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0;
}

const dir = corpusDir();
const files = readdirSync(dir).filter((f) => /^\d+$/.test(f));
const logs = files.map((f) => readReportTest(readFileSync(join(dir, f), "utf8")));
const clean = logs.filter((l) => l.title === "").map((l) => l.log);
const crashes = logs.filter((l) => l.title !== "").map((l) => l.log);
const cleanLines = clean.join("").split("\n").filter((l) => l !== "" && parse(l) === null);
const reportLog = crashes.find((l) => parse(l)?.title.startsWith("KASAN:")) ?? crashes[0] ?? "";

// Assemble the big log: clean lines in corpus order, repeated; reports at 90%, 95% and the end.
const chunk = cleanLines.join("\n") + "\n";
const parts: string[] = [];
let size = 0;
const marks = [0.9, 0.95].map((f) => f * TARGET_BYTES);
while (size < TARGET_BYTES) {
  if (marks.length > 0 && size >= (marks[0] ?? Infinity)) {
    marks.shift();
    parts.push(reportLog);
    size += reportLog.length;
  }
  parts.push(chunk);
  size += chunk.length;
}
parts.push(reportLog);

const tmp = mkdtempSync(join(tmpdir(), "culprit-bench-parse-"));
try {
  const path = join(tmp, "console.log");
  writeFileSync(path, parts.join(""));
  parts.length = 0;
  const bytes = statSync(path).size;
  const big = readFileSync(path, "utf8");
  const mb = bytes / (1024 * 1024);

  // The first report sits at 90%: measure a log cut just before it too (all clean, full scan).
  const cleanOnly = big.slice(0, big.indexOf(reportLog));
  const scans: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    const none = parse(cleanOnly);
    scans.push(performance.now() - t0);
    if (none !== null) throw new Error(`clean log parsed as a crash: ${none.title}`);
  }
  const t0 = performance.now();
  const first = parse(big);
  const withReports = performance.now() - t0;
  const cleanMb = cleanOnly.length / (1024 * 1024);
  process.stdout.write(
    `scan: clean log ${cleanMb.toFixed(1)} MB in ${median(scans).toFixed(0)} ms = ${(cleanMb / (median(scans) / 1000)).toFixed(1)} MB/s (median of 3)\n` +
      `scan: ${mb.toFixed(1)} MB log with 3 reports, first at 90%: ${withReports.toFixed(0)} ms = ${(mb / (withReports / 1000)).toFixed(1)} MB/s, found "${first?.title ?? "nothing"}"\n`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

// Per report: warm up once, then time each corpus crash log (best of 3 to damp GC noise).
for (const log of crashes) parse(log);
const perReport: number[] = [];
for (const log of crashes) {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    parse(log);
    best = Math.min(best, performance.now() - t0);
  }
  perReport.push(best);
}
process.stdout.write(
  `per report: ${crashes.length} corpus crash logs: median ${median(perReport).toFixed(3)} ms, p95 ${quantile(perReport, 0.95).toFixed(3)} ms, max ${Math.max(...perReport).toFixed(3)} ms\n`,
);

// Linearity: each pathological shape at 1, 2 and 5 MB (median of 3). Time that grows with the
// size is fine; quadratic backtracking shows as a 2 MB/1 MB ratio near 4 and 5 MB/1 MB near 25.
const MB = 1 << 20;
function medianMs(log: string): number {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    parseAll(log);
    times.push(performance.now() - t0);
  }
  return median(times);
}
let worst2 = 0;
let worst5 = 0;
for (const [name, make] of pathological) {
  const t1 = medianMs(make(MB));
  // Below a few milliseconds the ratio is noise: measure from a floor.
  const floor = (t: number): number => Math.max(t, 5);
  const r2 = floor(medianMs(make(2 * MB))) / floor(t1);
  const r5 = floor(medianMs(make(5 * MB))) / floor(t1);
  worst2 = Math.max(worst2, r2);
  worst5 = Math.max(worst5, r5);
  process.stdout.write(`linear: ${name.padEnd(46)} 1 MB ${t1.toFixed(1)} ms, 2 MB ×${r2.toFixed(2)}, 5 MB ×${r5.toFixed(2)}\n`);
}
process.stdout.write(`linear: worst ratio 2 MB/1 MB ×${worst2.toFixed(2)} (linear 2, quadratic 4), 5 MB/1 MB ×${worst5.toFixed(2)} (linear 5, quadratic 25)\n`);
