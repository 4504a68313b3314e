import { test } from "node:test";
import assert from "node:assert/strict";
import { CrashFamily, sameCrash } from "./family.js";
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
