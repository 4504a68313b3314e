// Userspace reports as the tools really print them: small C/C++/Rust programs are built with
// -fsanitize=... in a temp dir, run, and their output parsed. Formats that cannot be produced on
// this machine (MemorySanitizer needs clang; Go is not installed; musl's assert) are covered
// from their documented format in the second table.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "./index.js";

interface Program {
  name: string;
  source: string;
  /** Compiler and flags (the source file and -o are appended). */
  compile: string[];
  ext: string;
  env?: Record<string, string>;
  /** Run through bash so the shell reports the fatal signal, as in a script-driven reproducer. */
  viaShell?: boolean;
  want: { title: string; type: string; frame: string };
}

const asan = ["gcc", "-O0", "-g", "-fsanitize=address"];
const programs: Program[] = [
  {
    name: "heap-use-after-free",
    source: "#include <stdlib.h>\nint use(int *p) { return p[1]; }\nint main(void) { int *p = malloc(8); free(p); return use(p); }\n",
    compile: asan,
    ext: "c",
    want: { title: "AddressSanitizer: heap-use-after-free in use", type: "ASAN-HEAP-USE-AFTER-FREE", frame: "use" },
  },
  {
    name: "heap-buffer-overflow",
    source: "#include <stdlib.h>\nint read_past(int *p, int n) { return p[n]; }\nint main(int argc, char **argv) { int *p = malloc(16); (void)argv; return read_past(p, argc + 3); }\n",
    compile: asan,
    ext: "c",
    want: { title: "AddressSanitizer: heap-buffer-overflow in read_past", type: "ASAN-HEAP-BUFFER-OVERFLOW", frame: "read_past" },
  },
  {
    name: "stack-buffer-overflow",
    source: "int local_overflow(int n) { volatile int a[4]; a[n] = 1; return a[0]; }\nint main(int argc, char **argv) { (void)argv; return local_overflow(argc + 3); }\n",
    compile: asan,
    ext: "c",
    want: { title: "AddressSanitizer: stack-buffer-overflow in local_overflow", type: "ASAN-STACK-BUFFER-OVERFLOW", frame: "local_overflow" },
  },
  {
    name: "global-buffer-overflow",
    source: "int table[4];\nint lookup(int n) { return table[n]; }\nint main(int argc, char **argv) { (void)argv; return lookup(argc + 3); }\n",
    compile: asan,
    ext: "c",
    want: { title: "AddressSanitizer: global-buffer-overflow in lookup", type: "ASAN-GLOBAL-BUFFER-OVERFLOW", frame: "lookup" },
  },
  {
    name: "stack-overflow",
    source: "int recurse(int n) { volatile char buf[256]; buf[0] = (char)n; return recurse(n + 1) + buf[0]; }\nint main(void) { return recurse(0); }\n",
    compile: asan,
    ext: "c",
    want: { title: "AddressSanitizer: stack-overflow in recurse", type: "ASAN-STACK-OVERFLOW", frame: "recurse" },
  },
  {
    name: "SEGV on unknown address",
    source: "void poke(int *p) { p[4] = 1; }\nint main(void) { poke((int *)0); return 0; }\n",
    compile: asan,
    ext: "c",
    want: { title: "AddressSanitizer: SEGV on unknown address in poke", type: "ASAN-SEGV-ON-UNKNOWN-ADDRESS", frame: "poke" },
  },
  {
    name: "double-free",
    source: "#include <stdlib.h>\nvoid release(void *p) { free(p); }\nint main(void) { void *p = malloc(8); release(p); release(p); return 0; }\n",
    compile: asan,
    ext: "c",
    want: { title: "AddressSanitizer: double-free in release", type: "ASAN-DOUBLE-FREE", frame: "release" },
  },
  {
    name: "alloc-dealloc-mismatch",
    source: "#include <cstdlib>\nvoid drop(int *p) { free(p); }\nint main() { drop(new int[4]); return 0; }\n",
    compile: ["g++", "-O0", "-g", "-fsanitize=address"],
    ext: "cc",
    want: { title: "AddressSanitizer: alloc-dealloc-mismatch in drop", type: "ASAN-ALLOC-DEALLOC-MISMATCH", frame: "drop" },
  },
  {
    name: "LeakSanitizer",
    source: "#include <stdlib.h>\nvoid *keep;\nvoid *leak(void) { return malloc(10); }\nint main(void) { keep = leak(); keep = 0; return 0; }\n",
    compile: asan,
    ext: "c",
    want: { title: "LeakSanitizer: detected memory leaks in leak", type: "LEAK", frame: "leak" },
  },
  {
    name: "UBSan without stack",
    source: "#include <limits.h>\nint add(int a) { return a + 1; }\nint main(int argc, char **argv) { (void)argv; return add(INT_MAX - 1 + argc); }\n",
    compile: ["gcc", "-O0", "-g", "-fsanitize=undefined"],
    ext: "c",
    want: { title: "UBSan: signed integer overflow in UBSan-without-stack.c", type: "UBSAN", frame: "" },
  },
  {
    name: "UBSan with stack",
    source: "int divide(int a, int b) { return a / b; }\nint main(int argc, char **argv) { (void)argv; return divide(argc, argc - 1); }\n",
    compile: ["gcc", "-O0", "-g", "-fsanitize=undefined"],
    ext: "c",
    env: { UBSAN_OPTIONS: "print_stacktrace=1" },
    want: { title: "UBSan: division by zero in divide", type: "UBSAN", frame: "divide" },
  },
  {
    name: "ThreadSanitizer",
    source:
      "#include <pthread.h>\nint counter;\nvoid *bump(void *p) { counter++; return p; }\nint main(void) { pthread_t a, b; pthread_create(&a, 0, bump, 0); pthread_create(&b, 0, bump, 0); pthread_join(a, 0); pthread_join(b, 0); return counter; }\n",
    compile: ["gcc", "-O0", "-g", "-fsanitize=thread", "-pthread"],
    ext: "c",
    want: { title: "ThreadSanitizer: data race in bump", type: "TSAN-DATA-RACE", frame: "bump" },
  },
  {
    name: "glibc assert",
    source: "#include <assert.h>\nint check(int x) { assert(x > 0); return x; }\nint main(void) { return check(0); }\n",
    compile: ["gcc", "-O0", "-g"],
    ext: "c",
    want: { title: "assertion failed: x > 0 in check", type: "ASSERT", frame: "check" },
  },
  {
    name: "segfault reported by bash",
    source: "void poke(int *p) { p[4] = 1; }\nint main(void) { poke((int *)0); return 0; }\n",
    compile: ["gcc", "-O0", "-g"],
    ext: "c",
    viaShell: true,
    want: { title: "fatal signal: SIGSEGV", type: "SIGNAL", frame: "" },
  },
  {
    name: "rust panic",
    source: "fn pick(v: &[u32], i: usize) -> u32 { v[i] }\nfn main() { let n = std::env::args().count() + 4; println!(\"{}\", pick(&[1, 2, 3], n)); }\n",
    compile: ["rustc", "-O"],
    ext: "rs",
    env: { RUST_BACKTRACE: "1" },
    want: { title: "panicked: index out of bounds: the len is NUM but the index is NUM in rust_panic::main", type: "PANIC", frame: "rust_panic::main" },
  },
];

function available(tool: string): boolean {
  return spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;
}

let dir = "";
before(() => {
  dir = mkdtempSync(join(tmpdir(), "culprit-userspace-"));
});
after(() => {
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
});

describe("userspace reports from real compiler output", () => {
  for (const p of programs) {
    const tool = p.compile[0] ?? "";
    test(p.name, { skip: !available(tool) && `${tool} not installed` }, () => {
      const base = p.name.replace(/[^A-Za-z0-9]+/g, "-");
      const src = join(dir, `${base}.${p.ext}`);
      const bin = join(dir, base);
      writeFileSync(src, p.source);
      const built = spawnSync(tool, [...p.compile.slice(1), src, "-o", bin], { cwd: dir, encoding: "utf8" });
      assert.equal(built.status, 0, built.stderr);
      // Leak detection and ASLR-related flakiness are irrelevant here; the reports are what matter.
      const env = { ...process.env, ASAN_OPTIONS: "detect_leaks=1", ...p.env };
      const run = p.viaShell
        ? spawnSync("bash", ["-c", '"$1"; true', "bash", bin], { cwd: dir, env, encoding: "utf8" })
        : spawnSync(bin, [], { cwd: dir, env, encoding: "utf8" });
      const output = `${run.stdout}${run.stderr}`;
      const got = parse(output);
      assert.ok(got, `no crash found in:\n${output}`);
      assert.deepEqual({ title: got.title, type: got.type, frame: got.frame }, p.want, output);
      assert.ok(got.report.length > 0);
    });
  }
});

/** Lua's close-chain recursion, as ASan prints its frames. */
const CLOSE_CYCLE = ["luaD_call", "luaV_execute", "luaD_callnoyield", "luaD_rawrunprotected", "luaD_pcall", "callclosemth", "luaF_close", "lua_resetthread", "luaB_close"];

/** An ASan stack-overflow report: `top` frames, then `frames` frames of the cycle from `phase` on, then `bottom`. */
function overflowLog(top: string[], phase: number, frames: number, bottom: string[] = []): string {
  const names = [...top, ...Array.from({ length: frames }, (_, i) => CLOSE_CYCLE[(phase + i) % CLOSE_CYCLE.length] as string), ...bottom];
  const lines = names.map((name, i) => `    #${i} 0x55dd18d${(i * 4099).toString(16).padStart(5, "0")} in ${name} /src/lua/${name}.c:${100 + i}`);
  return [
    "AddressSanitizer:DEADLYSIGNAL",
    "=================================================================",
    "==28866==ERROR: AddressSanitizer: stack-overflow on address 0x7ffe196b5ff8 (pc 0x7f5a7ecd9a30 bp 0x000000000000 sp 0x7ffe196b6000 T0)",
    ...lines,
    "",
    "SUMMARY: AddressSanitizer: stack-overflow /src/lua/x.c:1 in x",
    "==28866==ABORTING",
    "",
  ].join("\n");
}

describe("userspace reports from documented formats", () => {
  const table: { name: string; log: string; title: string; type: string; frame: string }[] = [
    {
      // From the MemorySanitizer documentation (clang only).
      name: "MemorySanitizer",
      log: "==63929==WARNING: MemorySanitizer: use-of-uninitialized-value\n    #0 0x7f7893912f0b in main umr.cc:6\n    #1 0x7f789249b76c in __libc_start_main libc-start.c:226\n\nSUMMARY: MemorySanitizer: use-of-uninitialized-value umr.cc:6 main\nExiting\n",
      title: "MemorySanitizer: use-of-uninitialized-value in main",
      type: "MSAN-USE-OF-UNINITIALIZED-VALUE",
      frame: "main",
    },
    {
      name: "Go panic",
      log: "starting\npanic: runtime error: index out of range [5] with length 3\n\ngoroutine 1 [running]:\nmain.pick(...)\n\t/src/main.go:4\nmain.main()\n\t/src/main.go:8 +0x1d\nexit status 2\n",
      title: "panic: runtime error: index out of range in main.pick",
      type: "PANIC",
      frame: "main.pick",
    },
    {
      name: "musl assert",
      log: "Assertion failed: x > 0 (as.c: check: 2)\n",
      title: "assertion failed: x > 0 in check",
      type: "ASSERT",
      frame: "check",
    },
    {
      name: "Rust panic, pre-1.73 format",
      log: "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value', src/main.rs:3:5\n",
      title: "panicked: called `Option::unwrap()` on a `None` value in main.rs",
      type: "PANIC",
      frame: "",
    },
    {
      // Lua's coroutine.close chain (fixed by 1e64c139): the stack ran out inside malloc, called from the cycle.
      name: "ASan stack overflow in a recursion, out of stack in malloc",
      log: overflowLog(["__interceptor_realloc", "luaM_malloc_", "luaE_extendCI"], 0, 80),
      title: "AddressSanitizer: stack-overflow in callclosemth",
      type: "ASAN-STACK-OVERFLOW",
      frame: "callclosemth",
    },
    {
      name: "the same recursion, out of stack at another point of the cycle",
      log: overflowLog([], 3, 80),
      title: "AddressSanitizer: stack-overflow in callclosemth",
      type: "ASAN-STACK-OVERFLOW",
      frame: "callclosemth",
    },
    {
      name: "a recursion short enough to be printed whole, down to main",
      log: overflowLog([], 5, 30, ["main"]),
      title: "AddressSanitizer: stack-overflow in callclosemth",
      type: "ASAN-STACK-OVERFLOW",
      frame: "callclosemth",
    },
    {
      name: "a stack overflow without a recursion is named by its top frame",
      log: overflowLog(["big_frame", "parse_input"], 0, 0, ["main"]),
      title: "AddressSanitizer: stack-overflow in big_frame",
      type: "ASAN-STACK-OVERFLOW",
      frame: "big_frame",
    },
  ];
  for (const row of table) {
    test(row.name, () => {
      const got = parse(row.log);
      assert.ok(got);
      assert.deepEqual({ title: got.title, type: got.type, frame: got.frame }, { title: row.title, type: row.type, frame: row.frame });
    });
  }

  test("ordinary program output is not a crash", () => {
    const logs = [
      "Killed 3 processes\n",
      "Segmentation faults are bad\n",
      "run: Killed by the user? no\n",
      "Aborted? no.\n",
      // Kernel-looking words in a plain program's output, with no kernel console around them.
      "WARNING: config file not found, using defaults\nprocessed 3 records\n",
      "INFO: starting up\nBUG: tracker moved to example.org\n",
      "fatal error: cannot open input\n",
      "panic: not a go program\n",
    ];
    for (const log of logs) {
      assert.equal(parse(log), null, log);
    }
  });
});

test("in a kernel console only sanitizer reports are userspace crashes", () => {
  const console = "[   10.000001] random: crng init done\nprog: x.c:1: f: Assertion `x' failed.\nSegmentation fault\n";
  assert.equal(parse(console), null);
  const asan = "[   10.000001] random: crng init done\n==1==ERROR: AddressSanitizer: heap-use-after-free on address 0x1\n    #0 0x1 in use /x.c:2\n";
  assert.equal(parse(asan)?.title, "AddressSanitizer: heap-use-after-free in use");
});
