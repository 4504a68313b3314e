// How a finished reproducer process is read: crash, could not run, or OK.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { describeRun } from "../core/outcome.js";
import type { CrashReport } from "../report/types.js";
import type { ExecResult } from "./exec.js";
import { classifyProcessRun, outputTail, type ExitStatusMeaning } from "./process.js";
import { reportTitled } from "./testkit.js";
import { crashOfTitle } from "../report/named.js";

const exited = (code: number | null, extra: Partial<Extract<ExecResult, { kind: "exited" }>> = {}): ExecResult => ({
  kind: "exited",
  code,
  signal: null,
  timedOut: false,
  aborted: false,
  durationMs: 1,
  ...extra,
});
const asan = (log: string): CrashReport[] =>
  log.includes("AddressSanitizer") ? [{ ...reportTitled("KASAN-like: heap-use-after-free in f"), type: "ASAN", frame: "f", report: log }] : [];

describe("classifyProcessRun", () => {
  const cases: [string, ExecResult, string, ExitStatusMeaning | undefined, string][] = [
    ["exit 0 is OK", exited(0), "done\n", undefined, "OK"],
    ["a syntax error is 'could not run' by default", exited(1), "lua: t.lua:1: unknown attribute 'const'\n", undefined, "reproducer could not run: exit status 1"],
    ["a missing script too", exited(127), "sh: ./repro.sh: not found\n", undefined, "reproducer could not run: exit status 127"],
    ["exitStatus: crash keeps the old reading", exited(1), "", "crash", "crashed: exit status 1"],
    ["exitStatus: ignore reads it as OK", exited(3), "", "ignore", "OK"],
    ["a crash report wins over the exit status", exited(1), "==1==ERROR: AddressSanitizer: heap-use-after-free\n", undefined, "crashed: KASAN-like: heap-use-after-free in f"],
    ["a fatal signal is a crash", exited(null, { signal: "SIGSEGV" }), "", undefined, "crashed: fatal signal SIGSEGV"],
    ["a shell's 128+11 is a fatal signal", exited(139), "", undefined, "crashed: fatal signal SIGSEGV"],
    ["a shell's 128+6 is an abort", exited(134), "", "ignore", "crashed: fatal signal SIGABRT"],
    ["exit 125 cannot test, as with git bisect run", exited(125), "", "crash", "reproducer could not run: exit status 125 (cannot test)"],
    ["a hang is 'reproducer hung'", exited(null, { signal: "SIGKILL", timedOut: true }), "still going\n", undefined, "crashed: reproducer hung"],
    ["a silent hang", exited(null, { signal: "SIGKILL", timedOut: true }), "", undefined, "crashed: no output from test machine"],
    ["a reproducer that cannot start is infra", { kind: "spawn-error", code: "ENOENT", message: "spawn ENOENT" }, "", undefined, "infra problem: cannot start reproducer: spawn ENOENT"],
  ];
  for (const [name, exit, log, meaning, want] of cases) {
    it(name, () => assert.equal(describeRun(classifyProcessRun(exit, log, asan, meaning).outcome), want));
  }

  it("keeps the last lines of the output as the reason's tail", () => {
    const { outcome } = classifyProcessRun(exited(2), "a\nb\n\nc\nd\ne\nf\n", asan);
    assert.deepEqual(outcome, { kind: "untestable", reason: "exit status 2", tail: "b\nc\nd\ne\nf" });
  });

  it("the runner's own titles read back, by title alone, as the type it gave them (a --crash naming one)", () => {
    const own: [ExecResult, string, ExitStatusMeaning][] = [
      [exited(null, { signal: "SIGKILL", timedOut: true }), "still going\n", "untestable"],
      [exited(null, { signal: "SIGKILL", timedOut: true }), "", "untestable"],
      [exited(null, { signal: "SIGSEGV" }), "", "untestable"],
      [exited(134), "", "untestable"],
      [exited(3), "", "crash"],
    ];
    for (const [exit, log, meaning] of own) {
      const { outcome } = classifyProcessRun(exit, log, asan, meaning);
      assert.equal(outcome.kind, "crash");
      if (outcome.kind !== "crash") continue;
      const named = crashOfTitle(outcome.crash.title, "program");
      assert.deepEqual({ type: named.type, frame: named.frame }, { type: outcome.crash.type, frame: outcome.crash.frame }, outcome.crash.title);
    }
  });

  it("cuts long lines in the tail", () => {
    assert.equal(outputTail(`${"x".repeat(300)}\n`, 5, 10), "xxxxxxxxxx…");
  });
});
