import { test } from "node:test";
import assert from "node:assert/strict";
import { CrashFamily, crashSimilarity, sameCrash, type CrashShape } from "./family.js";
import type { CrashIdentity } from "./types.js";

const crash = (title: string, type: string, frame: string, alt: string[] = []): CrashIdentity => ({ title, alt, type, frame });

const kasanUaf = crash("KASAN: use-after-free Read in tcp_sendmsg", "KASAN-USE-AFTER-FREE-READ", "tcp_sendmsg", ["bad-access in tcp_sendmsg"]);
const gpfSame = crash("general protection fault in tcp_sendmsg", "DoS", "tcp_sendmsg", ["bad-access in tcp_sendmsg"]);
const kasanUafWrite = crash("KASAN: use-after-free Write in tcp_sendmsg", "KASAN-USE-AFTER-FREE-READ", "tcp_sendmsg");
const warningA = crash("WARNING in ext4_fill_super", "WARNING", "ext4_fill_super");
const warningB = crash("WARNING in ext4_remount", "WARNING", "ext4_remount");
const deadlock = crash("possible deadlock in del_gendisk", "LOCKDEP", "del_gendisk");
const hang = crash("INFO: task hung in del_gendisk", "HANG", "del_gendisk", ["hang in del_gendisk"]);
const asan = crash("AddressSanitizer: heap-use-after-free in use", "ASAN-HEAP-USE-AFTER-FREE", "use");
const asanAgain = crash("AddressSanitizer: heap-use-after-free in use", "ASAN-HEAP-USE-AFTER-FREE", "use");
const noFrame = crash("kernel panic: Attempted to kill init!", "DoS", "");
const otherPanic = crash("kernel panic: Fatal exception", "DoS", "");

const table: [string, CrashIdentity, CrashIdentity, boolean][] = [
  ["same title", asan, asanAgain, true],
  ["shared alternative title", kasanUaf, gpfSame, true],
  ["same type and guilty frame", kasanUaf, kasanUafWrite, true],
  ["a title equal to the other's alternative", hang, crash("hang in del_gendisk", "HANG", "x"), true],
  ["different bug sharing only a type", warningA, warningB, false],
  ["same frame but different type", deadlock, hang, false],
  ["different crashes without frames", noFrame, otherPanic, false],
  ["userspace vs kernel", asan, deadlock, false],
];

for (const [name, a, b, want] of table) {
  test(`sameCrash: ${name}`, () => {
    assert.equal(sameCrash(a, b), want);
    assert.equal(sameCrash(b, a), want, "symmetric");
    assert.equal(new CrashFamily(a).includes(b), want, "CrashFamily agrees");
  });
}

test("CrashFamily lists every title of the target", () => {
  assert.deepEqual(new CrashFamily(kasanUaf).titles(), ["KASAN: use-after-free Read in tcp_sendmsg", "bad-access in tcp_sendmsg"]);
});

test("CrashFamily keeps its own copy of the target", () => {
  const target = crash("WARNING in f", "WARNING", "f", ["x"]);
  const family = new CrashFamily(target);
  target.alt.push("y");
  assert.equal(family.includes(crash("y", "", "")), false);
});

// ----- graded identity: crashSimilarity -----

const shape = (title: string, type: string, frames: string[], file: string): CrashShape => ({ title, alt: [], type, frame: frames[0] ?? "", frames, file });

const releaseUaf = shape("KASAN: use-after-free Read in foo_release", "KASAN-USE-AFTER-FREE-READ", ["foo_release", "foo_file_close", "__fput", "task_work_run", "exit_to_user_mode_prepare", "do_syscall_64"], "drivers/foo/core.c");
// The same bug after foo_release was renamed foo_put: the callers did not change.
const putUaf = shape("KASAN: use-after-free Read in foo_put", "KASAN-USE-AFTER-FREE-READ", ["foo_put", "foo_file_close", "__fput", "task_work_run", "exit_to_user_mode_prepare", "do_syscall_64"], "drivers/foo/core.c");
// foo_release inlined into its caller: the new top frame was the old second one.
const inlinedUaf = shape("KASAN: use-after-free Read in foo_file_close", "KASAN-USE-AFTER-FREE-READ", ["foo_file_close", "__fput", "task_work_run", "exit_to_user_mode_prepare", "do_syscall_64"], "drivers/foo/core.c");
const netWarning = shape("WARNING in tcp_recvmsg_locked", "WARNING", ["tcp_recvmsg_locked", "tcp_recvmsg", "inet_recvmsg", "sock_recvmsg", "__sys_recvfrom", "do_syscall_64"], "net/ipv4/tcp.c");
const fsWarning = shape("WARNING in ext4_fill_super", "WARNING", ["ext4_fill_super", "mount_bdev", "legacy_get_tree", "vfs_get_tree", "path_mount", "do_syscall_64"], "fs/ext4/super.c");
const gpfSameStack = shape("general protection fault in foo_release", "DoS", ["foo_release", "foo_file_close", "__fput", "task_work_run"], "drivers/foo/core.c");
const otherFooUaf = shape("KASAN: use-after-free Read in foo_ioctl", "KASAN-USE-AFTER-FREE-READ", ["foo_ioctl", "__x64_sys_ioctl", "do_syscall_64"], "drivers/foo/core.c");

const similarities: [string, CrashShape, CrashShape, (s: number) => boolean, string][] = [
  ["identical", releaseUaf, { ...releaseUaf }, (s) => s === 1, "1"],
  ["renamed guilty function, frames below unchanged", putUaf, releaseUaf, (s) => s >= 0.5 && s < 1, "related (≥ 0.5, < 1)"],
  ["guilty function inlined into its caller", inlinedUaf, releaseUaf, (s) => s >= 0.5 && s < 1, "related (≥ 0.5, < 1)"],
  ["an unrelated WARNING in another subsystem", fsWarning, netWarning, (s) => s === 0, "0"],
  ["same stack, different type", gpfSameStack, releaseUaf, (s) => s === 0, "0"],
  ["same type and file, different stack", otherFooUaf, releaseUaf, (s) => s > 0 && s < 0.5, "weak (< 0.5)"],
  ["no type", shape("exit status 1", "", [], ""), shape("exit status 1 again", "", [], ""), (s) => s === 0, "0"],
];
for (const [name, a, b, ok, want] of similarities) {
  test(`crashSimilarity: ${name} is ${want}`, () => {
    const s = crashSimilarity(a, b);
    assert.ok(ok(s), `got ${s}`);
    assert.equal(crashSimilarity(b, a), s, "symmetric");
  });
}
