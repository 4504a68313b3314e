import { test } from "node:test";
import assert from "node:assert/strict";
import { oopsOfLine } from "./linux.js";
import { fileReference, guiltyFileOf } from "./guilty.js";
import { stallFrame, hangFrame, stripSyscallPrefix } from "./stack.js";
import { parse } from "./index.js";

const headers: [string, string | null][] = [
  ["[   12.3] BUG: KASAN: use-after-free in f+0x1/0x2", "BUG:"],
  ["WARNING: CPU: 0 PID: 1 at kernel/a.c:1 f+0x1/0x2", "WARNING:"],
  ["INFO: task syz-executor:1 blocked for more than 143 seconds.", "INFO:"],
  ["general protection fault, probably for non-canonical address 0xdffffc0000000000: 0000 [#1]", "general protection fault"],
  ["kernel BUG at mm/slub.c:1234!", "kernel BUG"],
  // Lines that mention a header but are not kernel bugs.
  ["WARNING: /etc/ssh/moduli does not exist, using fixed modulus", null],
  ["traps: syz-executor[123] general protection fault ip:4 sp:7 error:0 in libc.so[7f+1000]", null],
  ["INFO: lockdep is turned off.", null],
  ["bpf: INVALID BTF_INFO:42", null],
  ["EXT4-fs (loop0): WARNING: mounting fs with errors", null],
  ["ordinary output", null],
];
for (const [line, want] of headers) {
  test(`oopsOfLine(${JSON.stringify(line.slice(0, 40))})`, () => assert.equal(oopsOfLine(line)?.header ?? null, want));
}

const fileRefs: [string, string | null][] = [
  [" f+0x1/0x2 net/ipv6/ip6_output.c:1748", "net/ipv6/ip6_output.c"],
  [" nbd_dev_remove drivers/block/nbd.c:226 [inline]", "drivers/block/nbd.c"],
  ["include/linux/list.h:12", "include/linux/list.h"],
  ["a.cc:12 is C++", null],
  ["no file here: 12", null],
];
for (const [line, want] of fileRefs) {
  test(`fileReference(${JSON.stringify(line)})`, () => assert.equal(fileReference(line), want));
}

test("guilty file skips infrastructure and prefers a deeper file of the same directory", () => {
  const report = [
    "BUG: KASAN: use-after-free in f+0x1/0x2 lib/string.c:1",
    " kasan_report+0x1/0x2 mm/kasan/report.c:1",
    " f+0x1/0x2 net/core/f.c:1",
    " g+0x1/0x2 net/core/deeper/g.c:1",
  ].join("\n");
  assert.equal(guiltyFileOf("KASAN: use-after-free Read in f", report), "net/core/deeper/g.c");
});

const stalls: [string, string[], string][] = [
  ["frame above the syscall entry", ["loop_a", "loop_b", "do_syscall_64"], "loop_b"],
  ["frame above the work item", ["spin", "my_work_fn", "process_one_work", "worker_thread"], "my_work_fn"],
  ["smp_call_function is kept itself", ["csd_lock_wait", "smp_call_function_many", "do_syscall_64"], "smp_call_function"],
  ["no anchor: no frame", ["a", "b"], ""],
];
for (const [name, frames, want] of stalls) {
  test(`stallFrame: ${name}`, () => assert.equal(stallFrame(frames).frame, want));
}

const hangs: [string, string[], string][] = [
  ["RCU waits are one bucket", ["schedule", "synchronize_srcu", "f"], "synchronize_rcu"],
  ["rtnl is its own bucket", ["schedule", "rtnl_lock", "f"], "rtnl_lock"],
  ["generic waits skipped", ["schedule", "__mutex_lock_slowpath", "wait_for_completion", "p9_fd_close"], "p9_fd_close"],
];
for (const [name, frames, want] of hangs) {
  test(`hangFrame: ${name}`, () => assert.equal(hangFrame(frames).frame, want));
}

test("syscall prefixes are stripped to the shortest name", () => {
  // One prefix only, as syzbot does: "__x64_sys_sendmsg" keeps its "sys_".
  assert.equal(stripSyscallPrefix("__x64_sys_sendmsg"), "sys_sendmsg");
  assert.equal(stripSyscallPrefix("__do_sys_open"), "open");
  assert.equal(stripSyscallPrefix("tcp_sendmsg"), "tcp_sendmsg");
});

test("a report is cut out of interleaved output by its task context", () => {
  const log = [
    "[   10.000000][ T100] BUG: KASAN: use-after-free in victim+0x1/0x2 net/a.c:1",
    "[   10.000001][ T200] unrelated line from another task",
    "[   10.000002][ T100] Read of size 8 at addr ffff888012345678 by task x/100",
    "user program output without a timestamp",
    "[   10.000003][ T100] Call Trace:",
    "[   10.000004][ T100]  victim+0x1/0x2 net/a.c:1",
    "[   10.000005][ T100]  __x64_sys_sendmsg+0x1/0x2 net/socket.c:1",
    "",
  ].join("\n");
  const report = parse(log);
  assert.ok(report);
  assert.equal(report.title, "KASAN: use-after-free Read in victim");
  assert.deepEqual(report.alt, ["bad-access in victim"]);
  assert.equal(report.guiltyFile, "net/a.c");
  assert.ok(!report.report.includes("unrelated") && !report.report.includes("user program"));
  assert.deepEqual(report.crashState, ["victim", "sys_sendmsg"]);
});

// syzkaller reads a report to the end of the log, keeping its own context's lines; other output
// in between, however long, is skipped, not a reason to stop looking for the stack.
function withNoise(noise: number): string {
  const lines = ["[   10.000000] BUG: unable to handle kernel NULL pointer dereference at 0000000000000010"];
  for (let i = 0; i < noise; i++) lines.push(`executing program ${i}`);
  lines.push(
    "[   10.000001] RIP: 0010:victim+0x1d/0x40 net/a.c:12",
    "[   10.000002] Call Trace:",
    "[   10.000003]  caller+0x1/0x2 net/a.c:20",
    "[   10.000004]  __x64_sys_ioctl+0x1/0x2 fs/ioctl.c:1",
    "[   10.000005]  do_syscall_64+0x1/0x2 arch/x86/entry/common.c:1",
  );
  return lines.join("\n") + "\n";
}
for (const noise of [0, 6000, 60000]) {
  test(`the stack is found after ${noise} lines of other output`, () => {
    const report = parse(withNoise(noise));
    assert.equal(report?.title, "BUG: unable to handle kernel NULL pointer dereference in victim");
    assert.equal(report?.corrupted, false);
  });
}

// A report cut short after its title, in a log with no timestamps around it: the title pattern of
// a kernel format still names a kernel report (syzkaller reports it, corrupted), unlike a bare
// "WARNING:" line, which a plain program may print.
const truncatedReports: [string, string, string | null][] = [
  ["lockdep report without its chain", "WARNING: possible circular locking dependency detected\n4.15.0+ #1 Not tainted\n", "WARNING: possible circular locking dependency detected"],
  ["RCU report without its file", "=============================\nWARNING: suspicious RCU usage\n4.15.0+ #1 Not tainted\n", "WARNING: suspicious RCU usage"],
  ["a bare WARNING line of a program", "WARNING: config file not found, using defaults\n", null],
];
for (const [name, log, want] of truncatedReports) {
  test(`truncated, no console around it: ${name}`, () => {
    const report = parse(log);
    assert.equal(report?.title ?? null, want);
    if (want !== null) assert.equal(report?.corrupted, true);
  });
}

// In a log without timestamps every line is the report's; a report pattern's parts may be any
// number of lines apart, as syzkaller's "(?:.*\n)+?" allows.
test("a report pattern's next part is found however far down", () => {
  const lines = ["BUG: KASAN: use-after-free in victim+0x1/0x2 net/a.c:1"];
  for (let i = 0; i < 400; i++) lines.push(`executing program ${i}`);
  lines.push("Read of size 8 at addr ffff888012345678 by task x/100", "Call Trace:", " victim+0x1/0x2 net/a.c:1", " caller+0x1/0x2 net/a.c:2");
  const report = parse(lines.join("\n") + "\n");
  assert.equal(report?.title, "KASAN: use-after-free Read in victim");
  assert.deepEqual(report?.alt, ["bad-access in victim"]);
});
