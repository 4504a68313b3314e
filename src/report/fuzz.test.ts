// Robustness: the parser sees whatever a crashing machine prints. Reading every report of a log
// (parseAll's work) must never throw and must give sane reports on random bytes, shuffled real
// logs, megabyte-long lines and endlessly repeated report fragments. That time stays linear in
// the input's size is measured by bench:parse.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { corpusRoot, requireCorpus } from "./testkit.js";
import { generator } from "../sim/random.js";
import { crashes } from "./crash.js";
import type { CrashReport } from "./types.js";
import { pathological } from "./pathological.js";

/** Deterministic random numbers, so a failure reproduces. */
const random = generator;

/** Every report of the log (parseAll's work, throwing on a parser bug) has a sane shape. */
function checkShape(reports: readonly CrashReport[], log: string): void {
  for (const report of reports) checkReport(report, log);
}

function checkReport(report: CrashReport, log: string): void {
  const at = JSON.stringify(log.split("\n").slice(report.startLine, report.startLine + 3)).slice(0, 500);
  assert.ok(report.title.length > 0 && report.title.length <= 120, `bad title ${JSON.stringify(report.title)} from ${at}`);
  assert.ok(report.startLine <= report.endLine, "start after end");
  assert.ok(report.endLine <= log.split("\n").length, "end beyond the log");
}

// Fragments that steer random input into the parsers' interesting paths.
const fragments = [
  "BUG: ", "WARNING: ", "INFO: ", "KASAN: ", "BUG: KASAN: use-after-free in f+0x1/0x2\n", "Read of size 8 at addr ffff88 by task x/1\n",
  "[  12.345678] ", "[   T123] ", "[    C1] ", "Call Trace:\n", " ? ", " f+0x1/0x2 kernel/x.c:1\n", "RIP: 0010:", "<IRQ>", "<EOI>",
  "kernel BUG at ", "Kernel panic - not syncing: ", "general protection fault: 0000 [#1]", "INFO: task x:1 blocked for more than 143 seconds.\n",
  "INFO: rcu_sched self-detected stall on CPU\n", "apic_timer_interrupt", "WARNING: CPU: 0 PID: 1 at kernel/a.c:1 f+0x1/0x2\n",
  "possible circular locking dependency detected", " at: g+0x1/0x2", "==1==ERROR: AddressSanitizer: ", "heap-use-after-free on address 0x1\n",
  "    #0 0x4011bf in use /x.c:2\n", "SUMMARY: AddressSanitizer: ", "runtime error: ", "x.c:1:2: ", "Assertion `", "' failed.", "panic: ",
  "goroutine 1 [running]:\n", "thread 'main' panicked at ", "Segmentation fault\n", " login: ", "** 3 printk messages dropped ** ", "\n", "\n\n",
  "_Z3fooi", "_RNvCs1_3foo3bar", "\u00ff\u0000\ufffd", "(", ")", "'", ":", "1", "a", " ",
];

test("random bytes and random fragments never throw", () => {
  const rnd = random(1);
  for (let i = 0; i < 300; i++) {
    const bytes = Buffer.alloc(Math.floor(rnd() * 4096));
    for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rnd() * 256);
    for (const log of [bytes.toString("latin1"), bytes.toString("utf8")]) checkShape(crashes(log), log);
  }
  for (let i = 0; i < 1500; i++) {
    let log = "";
    const n = Math.floor(rnd() * 200);
    for (let j = 0; j < n; j++) log += fragments[Math.floor(rnd() * fragments.length)] ?? "";
    checkShape(crashes(log), log);
  }
});

function corpusLines(): string[] {
  const root = join(corpusRoot(), "linux");
  requireCorpus(root);
  const lines: string[] = [];
  for (const sub of ["report", "guilty"]) {
    for (const file of readdirSync(join(root, sub))) lines.push(...readFileSync(join(root, sub, file), "utf8").split("\n"));
  }
  return lines;
}

test("random mixes of real log lines never throw", () => {
  const lines = corpusLines();
  const rnd = random(2);
  for (let i = 0; i < 150; i++) {
    const n = 50 + Math.floor(rnd() * 1500);
    const picked: string[] = [];
    // Runs of consecutive lines keep whole report fragments together, as interleaving does.
    while (picked.length < n) {
      const at = Math.floor(rnd() * lines.length);
      picked.push(...lines.slice(at, at + 1 + Math.floor(rnd() * 30)));
    }
    const log = picked.join("\n");
    checkShape(crashes(log), log);
  }
});

// How the time grows with the size is bench:parse's business (timings flake on a loaded machine).
test("megabyte lines and repeated patterns parse", () => {
  for (const [, make] of pathological) {
    const log = make(1 << 20);
    checkShape(crashes(log), log);
  }
});
