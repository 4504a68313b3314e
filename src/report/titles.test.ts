import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { kernelTypeOfTitle, MAX_TITLE_LENGTH, normaliseTitle, titleWithPlace } from "./titles.js";
import { demangle } from "./demangle.js";
import { contextOf } from "./linux.js";
import { parse } from "./index.js";

const normalised: [string, string][] = [
  ["syz-executor.3/12345 pid", "syz-executor pid"],
  ["address ffff88801767dca0 in f", "address ADDR in f"],
  ["at 0xdeadbeef00 in f", "at ADDR in f"],
  ["drivers/net/tun.c:1234:5 bad", "drivers/net/tun.c:LINE bad"],
  ["WARNING in ip6_fragment+0x1052/0x2d80", "WARNING in ip6_fragment"],
  ["stall on CPU#3", "stall on CPU"],
  ["waiting 12 seconds for 0,1,2", "waiting NUM seconds for NUM,NUM,NUM"],
  ["nl80211 cfg80211 kept", "nl80211 cfg80211 kept"],
  ["slot id1234567890", "slot idNUM"],
  ["from 10.0.0.1 tab\tand  spaces", "from IP tab and spaces"],
  ["x".repeat(200), "x".repeat(120)],
];
for (const [raw, want] of normalised) {
  test(`normaliseTitle(${JSON.stringify(raw.slice(0, 30))})`, () => assert.equal(normaliseTitle(raw), want));
}

const types: [string, string][] = [
  ["KASAN: use-after-free Read in f", "KASAN-USE-AFTER-FREE-READ"],
  ["possible deadlock in f", "LOCKDEP"],
  ["INFO: task hung in f", "HANG"],
  ["WARNING in f", "WARNING"],
  ["WARNING: ODEBUG bug in f", "WARNING"],
  ["BUG: unable to handle kernel NULL pointer dereference in f", "NULL-POINTER-DEREFERENCE"],
  ["general protection fault in f", "DoS"],
  ["BUG: stack guard page was hit in f", ""],
  ["memory leak in f", "LEAK"],
];
for (const [title, want] of types) {
  test(`kernelTypeOfTitle(${title})`, () => assert.equal(kernelTypeOfTitle(title), want));
}

const mangled: [string, string][] = [
  ["_Z8fakeNameiii", "fakeName"],
  ["_ZN3foo3barEv", "foo::bar"],
  ["_ZNK3foo3barEv", "foo::bar"],
  ["_RNvCscSpY9Juk0HT_7___rustc17rust_begin_unwind", "__rustc::rust_begin_unwind"],
  ["_RNvXs1_CscPPBqWtAqum_11ashmem_rustNtB5_6AshmemNtNtCs43vyB533jt3_6kernel10miscdevice10MiscDevice4mmap", "<ashmem_rust::Ashmem as kernel::miscdevice::MiscDevice>::mmap"],
  ["plain_c_function", "plain_c_function"],
  ["_Zgarbage", "_Zgarbage"],
  ["_RB_", "_RB_"],
];
for (const [symbol, want] of mangled) {
  test(`demangle(${symbol.slice(0, 30)})`, () => assert.equal(demangle(symbol), want));
}

const contexts: [string, string][] = [
  ["no timestamp", ""],
  ["[   72.159680] BUG: x", "console"],
  ["[ 1052.080846][   T41] INFO: task", "[   T41]"],
  ["[   44.396800][    C4] Reported by", "[    C4]"],
  ["** 3 printk messages dropped ** [   1.000000][  T1] x", "[  T1]"],
  ["syzkaller login: [   12.5] BUG: x", "console"],
  ["<4>[    3.1] x", "console"],
];
for (const [line, want] of contexts) {
  test(`contextOf(${JSON.stringify(line)})`, () => assert.equal(contextOf(line), want));
}

/** The reference syzbot bisection log in ../shared (culprit's log format follows it). */
function referenceLog(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++, dir = resolve(dir, "..")) {
    const candidate = resolve(dir, "..", "shared", "reference", "syzbot-cause-bisection.log");
    if (existsSync(candidate)) return readFileSync(candidate, "utf8");
  }
  throw new Error("shared/reference/syzbot-cause-bisection.log not found beside the checkout");
}

test("the reference bisection's crash parses as syzbot named it", () => {
  const text = referenceLog();
  // The console report follows the "crash: <title>" line at the end of the bisection log.
  const console = text.slice(text.indexOf("\n", text.lastIndexOf("\ncrash: ") + 1) + 1);
  const report = parse(console);
  assert.ok(report);
  assert.equal(report.title, "possible deadlock in del_gendisk");
  assert.equal(report.type, "LOCKDEP");
  assert.equal(report.frame, "del_gendisk");
  assert.equal(report.guiltyFile, "block/genhd.c");
  assert.equal(report.corrupted, false);
  assert.deepEqual(report.crashState, ["del_gendisk", "nbd_dev_remove", "nbd_put"]);
});

test("a whole bisection log: the report is found at its start line, not in the quoted run titles", () => {
  const text = referenceLog();
  const report = parse(text);
  assert.equal(report?.title, "possible deadlock in del_gendisk");
  const lines = text.split("\n");
  assert.equal(lines[report?.startLine ?? -1], "WARNING: possible circular locking dependency detected");
});

test("quoted titles of a bisection log are not reports", () => {
  const log = [
    "run #0: basic kernel testing failed: BUG: sleeping function called from invalid context in stack_depot_save",
    "run #1: crashed: general protection fault in blk_mq_run_hw_queues",
    "all runs: crashed: WARNING in ext4_fill_super",
    "Call Trace:",
  ].join("\n");
  assert.equal(parse(log), null);
});

const placed: [string, string, string, string][] = [
  ["short titles are kept", "UBSan: shift exponent NUM is too large", "lcode.c", "UBSan: shift exponent NUM is too large in lcode.c"],
  [
    "a long kind is cut at a word, the place kept whole",
    "UBSan: member access within misaligned address ADDR for type 'struct lua_State', which requires NUM byte alignment",
    "lstate.c",
    "UBSan: member access within misaligned address ADDR for type 'struct lua_State', which requires NUM byte in lstate.c",
  ],
];
for (const [name, kind, place, want] of placed) {
  test(`titleWithPlace: ${name}`, () => {
    const title = titleWithPlace(kind, place);
    assert.equal(title, want);
    assert.ok(title.length <= MAX_TITLE_LENGTH);
  });
}

test("a long UBSan title keeps its source file whole", () => {
  const log = "lstate.c:289:3: runtime error: member access within misaligned address 0x602000000011 for type 'struct lua_State', which requires 8 byte alignment\n";
  const title = parse(log)?.title ?? "";
  assert.ok(title.endsWith(" in lstate.c") && title.length <= MAX_TITLE_LENGTH, title);
});
