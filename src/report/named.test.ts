import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crashOfTitle, type CrashConsole } from "./named.js";
import { readReportTest } from "./testfile.js";
import { corpusRoot, requireCorpus } from "./testkit.js";

interface Row {
  title: string;
  console: CrashConsole;
  type: string;
  frame: string;
  alt?: string[];
}

// Kernel titles of each type syzbot names, and the titles userspace.ts gives real tool output
// (userspace.test.ts builds the programs that print them).
const rows: Row[] = [
  { title: "KASAN: slab-use-after-free Read in tty_release", console: "kernel", type: "KASAN-USE-AFTER-FREE-READ", frame: "tty_release", alt: ["bad-access in tty_release"] },
  { title: "KASAN: slab-out-of-bounds Write in hci_read_cb", console: "kernel", type: "KASAN-WRITE", frame: "hci_read_cb", alt: ["bad-access in hci_read_cb"] },
  { title: "KASAN: invalid-free in skb_release_data", console: "kernel", type: "KASAN-INVALID-FREE", frame: "skb_release_data", alt: ["invalid-free in skb_release_data"] },
  { title: "KASAN: null-ptr-deref Read in filp_close", console: "kernel", type: "KASAN-NULL-POINTER-DEREFERENCE-READ", frame: "filp_close", alt: ["bad-access in filp_close"] },
  { title: "KMSAN: uninit-value in ip_tunnel_xmit", console: "kernel", type: "KMSAN-UNINIT-VALUE", frame: "ip_tunnel_xmit", alt: ["bad-access in ip_tunnel_xmit"] },
  { title: "KMSAN: kernel-infoleak in copy_to_user", console: "kernel", type: "KMSAN-INFO-LEAK", frame: "copy_to_user", alt: ["bad-access in copy_to_user"] },
  { title: "KFENCE: invalid free in kfree_skb", console: "kernel", type: "KFENCE-INVALID-FREE", frame: "kfree_skb", alt: ["invalid-free in kfree_skb"] },
  { title: "KFENCE: memory corruption in test_corruption", console: "kernel", type: "KFENCE-MEMORY-CORRUPTION", frame: "test_corruption", alt: [] },
  { title: "possible deadlock in del_gendisk", console: "kernel", type: "LOCKDEP", frame: "del_gendisk", alt: [] },
  { title: "inconsistent lock state in sync_info_debugfs_show", console: "kernel", type: "LOCKDEP", frame: "sync_info_debugfs_show" },
  { title: "WARNING: suspicious RCU usage in dev_deactivate_queue", console: "kernel", type: "LOCKDEP", frame: "dev_deactivate_queue" },
  { title: "WARNING in ext4_set_page_dirty", console: "kernel", type: "WARNING", frame: "ext4_set_page_dirty", alt: [] },
  { title: "WARNING: refcount bug in nf_tables_commit", console: "kernel", type: "REFCOUNT_WARNING", frame: "nf_tables_commit" },
  { title: "kernel BUG in ext4_es_cache_extent", console: "kernel", type: "BUG", frame: "ext4_es_cache_extent" },
  { title: "BUG: corrupted list in p9_fd_cancelled", console: "kernel", type: "MEMORY_SAFETY_BUG", frame: "p9_fd_cancelled", alt: ["bad-access in p9_fd_cancelled"] },
  { title: "BUG: unable to handle kernel NULL pointer dereference in vb2_mmap", console: "kernel", type: "NULL-POINTER-DEREFERENCE", frame: "vb2_mmap", alt: ["bad-access in vb2_mmap"] },
  { title: "BUG: sleeping function called from invalid context in lock_sock_nested", console: "kernel", type: "ATOMIC_SLEEP", frame: "lock_sock_nested" },
  { title: "general protection fault in blk_mq_run_hw_queues", console: "kernel", type: "DoS", frame: "blk_mq_run_hw_queues", alt: ["bad-access in blk_mq_run_hw_queues"] },
  { title: "INFO: task hung in rtnetlink_rcv_msg", console: "kernel", type: "HANG", frame: "rtnetlink_rcv_msg", alt: ["hang in rtnetlink_rcv_msg"] },
  { title: "INFO: rcu detected stall in sys_sendfile64", console: "kernel", type: "HANG", frame: "sys_sendfile64", alt: ["stall in sys_sendfile64"] },
  { title: "BUG: soft lockup in smp_call_function", console: "kernel", type: "HANG", frame: "smp_call_function", alt: ["stall in smp_call_function"] },
  { title: "kernel panic: Attempted to kill init!", console: "kernel", type: "DoS", frame: "" },
  { title: "kernel stack overflow in do_sys_poll", console: "kernel", type: "DoS", frame: "do_sys_poll", alt: ["stack-overflow in do_sys_poll"] },
  { title: "UBSAN: array-index-out-of-bounds in xfs_attr3_leaf_add_work", console: "kernel", type: "MEMORY_SAFETY_UBSAN", frame: "xfs_attr3_leaf_add_work", alt: ["bad-access in xfs_attr3_leaf_add_work"] },
  { title: "UBSAN: shift-out-of-bounds in ieee80211_rx_napi", console: "kernel", type: "UBSAN", frame: "ieee80211_rx_napi" },
  { title: "memory leak in new_inode_pseudo", console: "kernel", type: "LEAK", frame: "new_inode_pseudo" },
  { title: "panic: runtime error: index out of range in main.pick", console: "kernel", type: "DoS", frame: "main" },
  { title: "no output from test machine", console: "kernel", type: "NO_OUTPUT", frame: "" },
  { title: "AddressSanitizer: heap-use-after-free in use", console: "program", type: "ASAN-HEAP-USE-AFTER-FREE", frame: "use", alt: [] },
  { title: "AddressSanitizer: SEGV on unknown address in poke", console: "program", type: "ASAN-SEGV-ON-UNKNOWN-ADDRESS", frame: "poke" },
  { title: "AddressSanitizer: stack-overflow in luaD_call", console: "program", type: "ASAN-STACK-OVERFLOW", frame: "luaD_call" },
  { title: "AddressSanitizer: heap-use-after-free in use", console: "kernel", type: "ASAN-HEAP-USE-AFTER-FREE", frame: "use" },
  { title: "LeakSanitizer: detected memory leaks in leak", console: "program", type: "LEAK", frame: "leak" },
  { title: "MemorySanitizer: use-of-uninitialized-value in main", console: "program", type: "MSAN-USE-OF-UNINITIALIZED-VALUE", frame: "main" },
  { title: "ThreadSanitizer: data race in bump", console: "program", type: "TSAN-DATA-RACE", frame: "bump" },
  { title: "UBSan: division by zero in divide", console: "program", type: "UBSAN", frame: "divide" },
  { title: "UBSan: signed integer overflow in UBSan-without-stack.c", console: "program", type: "UBSAN", frame: "" },
  { title: "assertion failed: x > 0 in check", console: "program", type: "ASSERT", frame: "check" },
  { title: "fatal signal: SIGSEGV", console: "program", type: "SIGNAL", frame: "" },
  { title: "fatal signal SIGABRT", console: "program", type: "SIGNAL", frame: "" },
  { title: "panic: runtime error: index out of range in main.pick", console: "program", type: "PANIC", frame: "main.pick" },
  { title: "panicked: index out of bounds: the len is NUM but the index is NUM in rust_panic::main", console: "program", type: "PANIC", frame: "rust_panic::main" },
  { title: "panicked: called `Option::unwrap()` on a `None` value in main.rs", console: "program", type: "PANIC", frame: "" },
  { title: "reproducer hung", console: "program", type: "HANG", frame: "" },
  { title: "no output from test machine", console: "program", type: "HANG", frame: "" },
  { title: "exit status 3", console: "program", type: "EXIT", frame: "" },
  { title: "general protection fault in foo", console: "program", type: "DoS", frame: "foo" },
  { title: "  possible deadlock in foo_lock  ", console: "program", type: "LOCKDEP", frame: "foo_lock" },
  { title: "my own words for the crash", console: "program", type: "", frame: "" },
];

for (const row of rows) {
  test(`crashOfTitle(${JSON.stringify(row.title)}, ${row.console})`, () => {
    const got = crashOfTitle(row.title, row.console);
    assert.equal(got.title, row.title.trim());
    assert.deepEqual({ type: got.type, frame: got.frame }, { type: row.type, frame: row.frame });
    if (row.alt) assert.deepEqual(got.alt, row.alt);
  });
}

test("every corpus title gives the type and frame syzkaller gave its report, and no alternative title it did not", () => {
  const dir = join(corpusRoot(), "linux", "report");
  requireCorpus(dir);
  let titles = 0;
  for (const file of readdirSync(dir).filter((name) => /^\d+$/.test(name))) {
    const want = readReportTest(readFileSync(join(dir, file), "utf8"));
    if (want.title === "") continue;
    titles++;
    const got = crashOfTitle(want.title, "kernel");
    assert.equal(got.type, want.type, `${file}: ${want.title}`);
    if (want.frame !== "") assert.equal(got.frame, want.frame, `${file}: ${want.title}`);
    // Alternatives from frames with their syscall prefix stripped need the report's raw frames.
    for (const alt of got.alt) assert.ok(want.alt.includes(alt), `${file}: ${want.title}: ${alt} not in ${JSON.stringify(want.alt)}`);
  }
  assert.ok(titles > 400, `only ${titles} titled reports in the corpus`);
});
