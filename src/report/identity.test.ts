// One bug, two runs: sameCrash must call them the same however the console differs between runs
// (timestamps, CPU and PID numbers, addresses, other tasks' lines interleaved, a report cut short,
// a stack overflow caught at another depth). Each pair is parsed from real-shaped logs.

import { test } from "node:test";
import assert from "node:assert/strict";
import { parse, sameCrash } from "./index.js";

const kasan = [
  "[   46.000001] ==================================================================",
  "[   46.000002] BUG: KASAN: use-after-free in ext4_xattr_set_entry+0x3f1/0x1200 fs/ext4/xattr.c:1599",
  "[   46.000003] Read of size 4 at addr ffff888023456789 by task syz-executor.0/8432",
  "[   46.000004] ",
  "[   46.000005] CPU: 0 PID: 8432 Comm: syz-executor.0 Not tainted 5.10.0-rc1+ #1",
  "[   46.000006] Call Trace:",
  "[   46.000007]  dump_stack+0x107/0x163 lib/dump_stack.c:118",
  "[   46.000008]  print_address_description.constprop.0+0x1c/0x210 mm/kasan/report.c:385",
  "[   46.000009]  kasan_report.cold+0x1f/0x37 mm/kasan/report.c:545",
  "[   46.000010]  ext4_xattr_set_entry+0x3f1/0x1200 fs/ext4/xattr.c:1599",
  "[   46.000011]  ext4_xattr_ibody_set+0x78/0x2b0 fs/ext4/xattr.c:2224",
  "[   46.000012]  ext4_xattr_set_handle+0x8f4/0x13e0 fs/ext4/xattr.c:2380",
  "[   46.000013]  ext4_xattr_set+0x13a/0x340 fs/ext4/xattr.c:2493",
  "[   46.000014]  __vfs_setxattr+0x10e/0x170 fs/xattr.c:177",
  "[   46.000015]  do_syscall_64+0x2d/0x70 arch/x86/entry/common.c:46",
  "[   46.000016]  entry_SYSCALL_64_after_hwframe+0x44/0xa9",
  "[   46.000017] ==================================================================",
];

/** The same report printed by another run: other times, CPU, PID, addresses and line numbers. */
function anotherRun(lines: readonly string[]): string[] {
  return lines.map((l) =>
    l
      .replace(/^\[ *46\.0000(\d\d)\]/, (_, n: string) => `[ 1234.5678${n}]`)
      .replace("CPU: 0 PID: 8432", "CPU: 3 PID: 17001")
      .replaceAll("syz-executor.0/8432", "syz-executor.4/17001")
      .replace("ffff888023456789", "ffff88807a0c1e40")
      .replace(/xattr\.c:(\d+)/, (_, n: string) => `xattr.c:${Number(n) + 7}`),
  );
}

/** With CONFIG_PRINTK_CALLER, the report's task tagged, another task's output between its lines. */
function interleaved(lines: readonly string[]): string[] {
  const out: string[] = [];
  lines.forEach((l, i) => {
    out.push(l.replace(/^(\[ *[\d.]+\])/, "$1[ T8432]"));
    if (i % 3 === 1) out.push(`[   46.00002${i % 10}][ T5123] audit: type=1400 audit(1600000000.${i}:${i}): avc:  denied  { read } for  pid=5123`);
    if (i === 9) out.push("[   46.000030][    C1] ? ext4_xattr_ibody_find+0x1/0x2 fs/ext4/xattr.c:2100");
  });
  return out;
}

/** The console dropped the end of the report. */
const truncated = (lines: readonly string[]): string[] => lines.slice(0, 11);

const overflowDeep = [
  "[  100.100000] BUG: stack guard page was hit at ffffc90001b7ff78 (stack is ffffc90001b80000..ffffc90001b87fff)",
  "[  100.200000] kernel stack overflow (double-fault): 0000 [#1] PREEMPT SMP KASAN",
  "[  100.300000] CPU: 1 PID: 7000 Comm: syz-executor.2 Not tainted 5.10.0 #1",
  "[  100.400000] RIP: 0010:mark_lock+0x30/0x1e0 kernel/locking/lockdep.c:4375",
  "[  100.500000] Call Trace:",
  "[  100.510000]  __lock_acquire+0x1240/0x5480 kernel/locking/lockdep.c:4833",
  "[  100.520000]  lock_acquire+0x1f3/0x6d0 kernel/locking/lockdep.c:5437",
  "[  100.530000]  team_xmit+0x2a/0x90 drivers/net/team/team.c:1700",
  "[  100.540000]  dev_hard_start_xmit+0x1eb/0x920 net/core/dev.c:3614",
  "[  100.550000]  __dev_queue_xmit+0x2198/0x2f20 net/core/dev.c:4180",
  "[  100.560000]  team_xmit+0x2a/0x90 drivers/net/team/team.c:1700",
  "[  100.570000]  dev_hard_start_xmit+0x1eb/0x920 net/core/dev.c:3614",
  "[  100.580000]  __dev_queue_xmit+0x2198/0x2f20 net/core/dev.c:4180",
  "[  100.590000]  packet_snd+0x1a6b/0x2a60 net/packet/af_packet.c:3006",
  "[  100.600000]  packet_sendmsg+0x2e/0x40 net/packet/af_packet.c:3031",
  "[  100.610000]  sock_sendmsg+0xcf/0x120 net/socket.c:672",
  "[  100.620000]  __sys_sendto+0x21c/0x320 net/socket.c:1975",
  "[  100.630000]  do_syscall_64+0x2d/0x70 arch/x86/entry/common.c:46",
  "[  100.640000]  entry_SYSCALL_64_after_hwframe+0x44/0xa9",
];
// The same recursion caught two frames shallower, in another function at the top.
const overflowShallow = [
  ...overflowDeep.slice(0, 3),
  "[  200.400000] RIP: 0010:check_memory_region+0x10/0x1a0 mm/kasan/generic.c:191",
  "[  200.500000] Call Trace:",
  "[  200.510000]  skb_push+0x3a/0x100 net/core/skbuff.c:1900",
  ...overflowDeep.slice(9),
];

const pairs: [string, string[], string[]][] = [
  ["timestamps, CPU and PID numbers, addresses, line numbers", kasan, anotherRun(kasan)],
  ["another task's lines interleaved (printk caller ids)", kasan, interleaved(anotherRun(kasan))],
  ["the second run's report cut short", kasan, truncated(anotherRun(kasan))],
  ["a stack overflow with other top frames", overflowDeep, overflowShallow],
];
for (const [name, a, b] of pairs) {
  test(`sameCrash across runs: ${name}`, () => {
    const first = parse(a.join("\n") + "\n");
    const second = parse(b.join("\n") + "\n");
    assert.ok(first && second, "both runs have a report");
    assert.ok(sameCrash(first, second), `${first.title} | ${second.title}`);
    assert.equal(second.title, first.title, "and the same title");
  });
}

test("sameCrash across runs: a different bug in the same log shape is not the same", () => {
  const other = kasan.map((l) => l.replaceAll("ext4_xattr_set_entry", "ext4_xattr_ibody_get").replace("use-after-free", "slab-out-of-bounds"));
  const a = parse(kasan.join("\n") + "\n");
  const b = parse(other.join("\n") + "\n");
  assert.ok(a && b);
  assert.equal(sameCrash(a, b), false);
});
