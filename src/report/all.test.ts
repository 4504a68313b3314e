// parseAll: every report of a console log, in order. The shapes that matter for bisection: a
// non-fatal report (lockdep, a WARNING without panic_on_warn, KASAN multi-shot, a UBSan warning)
// printed before the bug's own report, which must not hide it.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, parseAll } from "./index.js";
import { crashes, MAX_REPORTS } from "./crash.js";

const lockdepThenKasan = `[   45.123450] 
[   45.123456] ======================================================
[   45.123457] WARNING: possible circular locking dependency detected
[   45.123458] 5.10.0-rc1+ #1 Not tainted
[   45.123459] ------------------------------------------------------
[   45.123460] syz-executor.0/8432 is trying to acquire lock:
[   45.123461] ffff888012345678 (&sb->s_type->i_mutex_key#12){+.+.}-{3:3}, at: inode_lock include/linux/fs.h:774 [inline]
[   45.123462] ffff888012345678 (&sb->s_type->i_mutex_key#12){+.+.}-{3:3}, at: do_truncate+0x13c/0x200 fs/open.c:62
[   45.123463] 
[   45.123464] but task is already holding lock:
[   45.123465] ffff888087654321 (sb_writers#5){.+.+}-{0:0}, at: sb_start_write include/linux/fs.h:1648 [inline]
[   45.123466] ffff888087654321 (sb_writers#5){.+.+}-{0:0}, at: mnt_want_write+0x3a/0xb0 fs/namespace.c:354
[   45.123467] 
[   45.123468] which lock already depends on the new lock.
[   45.123480] stack backtrace:
[   45.123481] CPU: 0 PID: 8432 Comm: syz-executor.0 Not tainted 5.10.0-rc1+ #1
[   45.123482] Call Trace:
[   45.123483]  __dump_stack lib/dump_stack.c:77 [inline]
[   45.123484]  dump_stack+0x107/0x163 lib/dump_stack.c:118
[   45.123485]  check_noncircular+0x25f/0x2e0 kernel/locking/lockdep.c:2117
[   45.123486]  __lock_acquire+0x2a8b/0x5480 kernel/locking/lockdep.c:4833
[   45.123487]  lock_acquire+0x1f3/0x6d0 kernel/locking/lockdep.c:5437
[   45.123488]  down_write+0x8d/0x150 kernel/locking/rwsem.c:1531
[   45.123489]  do_truncate+0x13c/0x200 fs/open.c:62
[   45.123490]  do_sys_ftruncate+0x2d7/0x390 fs/open.c:195
[   45.123491]  do_syscall_64+0x2d/0x70 arch/x86/entry/common.c:46
[   45.123492]  entry_SYSCALL_64_after_hwframe+0x44/0xa9
[   46.000001] ==================================================================
[   46.000002] BUG: KASAN: use-after-free in ext4_xattr_set_entry+0x3f1/0x1200 fs/ext4/xattr.c:1599
[   46.000003] Read of size 4 at addr ffff888023456789 by task syz-executor.0/8432
[   46.000004] 
[   46.000005] CPU: 0 PID: 8432 Comm: syz-executor.0 Not tainted 5.10.0-rc1+ #1
[   46.000006] Call Trace:
[   46.000007]  dump_stack+0x107/0x163 lib/dump_stack.c:118
[   46.000008]  print_address_description.constprop.0+0x1c/0x210 mm/kasan/report.c:385
[   46.000009]  kasan_report.cold+0x1f/0x37 mm/kasan/report.c:545
[   46.000010]  ext4_xattr_set_entry+0x3f1/0x1200 fs/ext4/xattr.c:1599
[   46.000011]  ext4_xattr_ibody_set+0x78/0x2b0 fs/ext4/xattr.c:2224
[   46.000012]  ext4_xattr_set_handle+0x8f4/0x13e0 fs/ext4/xattr.c:2380
[   46.000013]  ext4_xattr_set+0x13a/0x340 fs/ext4/xattr.c:2493
[   46.000014] ==================================================================
`;

const warningThenGpf = `[   30.100000] ------------[ cut here ]------------
[   30.200000] WARNING: CPU: 1 PID: 5000 at net/sched/sch_generic.c:443 dev_watchdog+0x5c4/0x7d0 net/sched/sch_generic.c:443
[   30.300000] Modules linked in:
[   30.400000] CPU: 1 PID: 5000 Comm: syz-executor.1 Not tainted 5.10.0 #1
[   30.500000] RIP: 0010:dev_watchdog+0x5c4/0x7d0 net/sched/sch_generic.c:443
[   30.600000] RSP: 0018:ffffc90000da8d18 EFLAGS: 00010282
[   30.700000] Call Trace:
[   30.800000]  <IRQ>
[   30.900000]  call_timer_fn+0x1a5/0x6b0 kernel/time/timer.c:1417
[   30.910000]  expire_timers kernel/time/timer.c:1462 [inline]
[   30.920000]  __run_timers.part.0+0x67c/0xa50 kernel/time/timer.c:1731
[   30.930000]  run_timer_softirq+0xb3/0x1d0 kernel/time/timer.c:1744
[   31.000000] ---[ end trace 0000000000000001 ]---
[   31.100000] general protection fault, probably for non-canonical address 0xdffffc0000000001: 0000 [#1] PREEMPT SMP KASAN
[   31.200000] KASAN: null-ptr-deref in range [0x0000000000000008-0x000000000000000f]
[   31.300000] CPU: 0 PID: 5001 Comm: syz-executor.1 Tainted: G        W         5.10.0 #1
[   31.400000] RIP: 0010:tcf_exts_destroy+0x2a/0x90 net/sched/cls_api.c:3012
[   31.500000] RSP: 0018:ffffc9000bd07360 EFLAGS: 00010202
[   31.600000] Call Trace:
[   31.700000]  tcindex_destroy+0x13f/0x2e0 net/sched/cls_tcindex.c:600
[   31.800000]  tcf_proto_destroy+0x6a/0x2c0 net/sched/cls_api.c:297
[   31.900000]  tc_new_tfilter+0x1a25/0x2190 net/sched/cls_api.c:2150
[   32.000000]  rtnetlink_rcv_msg+0x44e/0xad0 net/core/rtnetlink.c:5564
[   32.100000] Modules linked in:
[   32.200000] ---[ end trace 0000000000000002 ]---
[   32.300000] Kernel panic - not syncing: Fatal exception
[   32.400000] Kernel Offset: disabled
`;

const warningWithPanicOnWarn = `[   30.100000] ------------[ cut here ]------------
[   30.200000] WARNING: CPU: 1 PID: 5000 at net/sched/sch_generic.c:443 dev_watchdog+0x5c4/0x7d0 net/sched/sch_generic.c:443
[   30.300000] Kernel panic - not syncing: panic_on_warn set ...
[   30.400000] CPU: 1 PID: 5000 Comm: syz-executor.1 Not tainted 5.10.0 #1
[   30.700000] Call Trace:
[   30.900000]  panic+0x1a5/0x6b0 kernel/panic.c:200
[   30.910000]  __warn.cold+0x20/0x45 kernel/panic.c:600
[   30.920000]  report_bug+0x1bd/0x210 lib/bug.c:198
[   30.920000]  dev_watchdog+0x5c4/0x7d0 net/sched/sch_generic.c:443
[   30.930000]  call_timer_fn+0x1a5/0x6b0 kernel/time/timer.c:1417
[   31.000000] Kernel Offset: disabled
[   31.100000] Rebooting in 86400 seconds..
`;

const ubsanThenAsan = `lua: starting test
lstate.c:289:3: runtime error: member access within misaligned address 0x602000000011 for type 'struct lua_State', which requires 8 byte alignment
0x602000000011: note: pointer points here
 00 00 00  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
              ^
=================================================================
==12345==ERROR: AddressSanitizer: heap-use-after-free on address 0x602000000010 at pc 0x55d0c0 bp 0x7ffd1000 sp 0x7ffd0ff8
READ of size 8 at 0x602000000010 thread T0
    #0 0x55d0c0 in luaH_get /src/lua/ltable.c:600:10
    #1 0x55d1c1 in luaV_execute /src/lua/lvm.c:1200:5
    #2 0x55d2c2 in luaD_call /src/lua/ldo.c:500:3
    #3 0x7f0011 in __libc_start_main (/lib/x86_64-linux-gnu/libc.so.6+0x21c86)

0x602000000010 is located 0 bytes inside of 16-byte region [0x602000000010,0x602000000020)
freed by thread T0 here:
    #0 0x4c1234 in free (/src/lua/lua+0x4c1234)
    #1 0x55e0e0 in luaM_free_ /src/lua/lmem.c:100:3

SUMMARY: AddressSanitizer: heap-use-after-free /src/lua/ltable.c:600:10 in luaH_get
==12345==ABORTING
`;

/** A second KASAN report of a kernel in multi-shot mode (kasan_multi_shot). */
const kasanMultiShot =
  lockdepThenKasan.slice(lockdepThenKasan.indexOf("[   46.000001]")) +
  `[   47.000001] BUG: KASAN: slab-out-of-bounds in ext4_xattr_ibody_get+0x5ab/0x5e0 fs/ext4/xattr.c:620
[   47.000002] Write of size 8 at addr ffff888023456000 by task syz-executor.0/8433
[   47.000003] CPU: 1 PID: 8433 Comm: syz-executor.0 Not tainted 5.10.0-rc1+ #1
[   47.000004] Call Trace:
[   47.000005]  kasan_report.cold+0x1f/0x37 mm/kasan/report.c:545
[   47.000006]  ext4_xattr_ibody_get+0x5ab/0x5e0 fs/ext4/xattr.c:620
[   47.000007]  ext4_xattr_get+0x1b1/0x750 fs/ext4/xattr.c:661
`;

const titles = (log: string): string[] => parseAll(log).map((r) => r.title);

const cases: [string, string, string[]][] = [
  ["lockdep, then the oops", lockdepThenKasan, ["possible deadlock in do_truncate", "KASAN: use-after-free Read in ext4_xattr_set_entry"]],
  ["a WARNING without panic_on_warn, then a GPF", warningThenGpf, ["WARNING in dev_watchdog", "general protection fault in tcf_exts_destroy"]],
  ["KASAN in multi-shot mode", kasanMultiShot, ["KASAN: use-after-free Read in ext4_xattr_set_entry", "KASAN: slab-out-of-bounds Write in ext4_xattr_ibody_get"]],
  // The panic that panic_on_warn causes is part of the WARNING's report, not a second one.
  ["a WARNING with panic_on_warn", warningWithPanicOnWarn, ["WARNING in dev_watchdog"]],
  ["userspace: a UBSan warning, then ASan", ubsanThenAsan, [parse(ubsanThenAsan)?.title ?? "", "AddressSanitizer: heap-use-after-free in luaH_get"]],
  ["a clean log", "[    1.000000] Linux version 6.1.0\n[    2.000000] Run /init as init process\n", []],
];
for (const [name, log, want] of cases) {
  test(`parseAll: ${name}`, () => {
    assert.deepEqual(titles(log), want);
    const all = parseAll(log);
    assert.deepEqual(all[0] ?? null, parse(log), "the first report is parse()'s");
    for (let i = 1; i < all.length; i++) assert.ok((all[i]?.startLine ?? 0) > (all[i - 1]?.startLine ?? 0), "in the order they start");
  });
}

test("parseAll: the UBSan warning comes first in the userspace log", () => {
  assert.equal(parseAll(ubsanThenAsan)[0]?.type, "UBSAN");
});

test("parseAll: each report's frames start at its guilty frame", () => {
  const [lockdep, kasan] = parseAll(lockdepThenKasan);
  assert.deepEqual(lockdep?.frames, ["do_truncate", "do_sys_ftruncate", "do_syscall_64", "entry_SYSCALL_64_after_hwframe"]);
  assert.deepEqual(kasan?.frames, ["ext4_xattr_set_entry", "ext4_xattr_ibody_set", "ext4_xattr_set_handle", "ext4_xattr_set"]);
  // A GPF's guilty frame is the instruction pointer's; its callers are the call trace.
  assert.deepEqual(parseAll(warningThenGpf)[1]?.frames, ["tcf_exts_destroy", "tcindex_destroy", "tcf_proto_destroy", "tc_new_tfilter", "rtnetlink_rcv_msg"]);
});

test("parseAll: a log of endless reports stops at MAX_REPORTS", () => {
  const report = kasanMultiShot.slice(kasanMultiShot.indexOf("[   47.000001]"));
  const log = report.repeat(MAX_REPORTS * 3);
  assert.equal(crashes(log).length, MAX_REPORTS);
});
