// Titles are the identity of a crash: they must not change between two runs of the same bug,
// so everything dynamic (PIDs, addresses, line numbers, CPU numbers) is normalised away.

export const MAX_TITLE_LENGTH = 120;

/** One normalisation step, applied until the text stops changing (matches can overlap). */
interface Replacement {
  pattern: RegExp;
  with: string;
}

const replacements: readonly Replacement[] = [
  // Executor process numbers differ on every run.
  { pattern: /syz-executor\.?\d+(?:[/:]\d+)?/g, with: "syz-executor" },
  { pattern: /syzkaller\d+(?:[/:]\d+)?/g, with: "syzkaller" },
  // Anything that looks like an address can never be part of a stable title.
  { pattern: /([^a-zA-Z0-9])(?:0x)?[0-9a-f]{6,}/g, with: "$1ADDR" },
  { pattern: /\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/g, with: "IP" },
  // Line numbers move with every commit, which is exactly what bisection walks across.
  { pattern: /(\.\w+)(?::\d+)+/g, with: "$1:LINE" },
  // Offsets and sizes of a symbol differ between builds.
  { pattern: /([a-zA-Z][a-zA-Z0-9_.]+)\+0x[0-9a-z]+\/0x[0-9a-z]+/g, with: "$1" },
  { pattern: /CPU#\d+/g, with: "CPU" },
  { pattern: /(\W)\d+(\W|$)/g, with: "$1NUM$2" },
  // Digits inside identifiers (cfg80211) are kept, but a long run is a number, not a name.
  { pattern: /\d{7,}/g, with: "NUM" },
];

/** Longest raw text worth normalising: a garbled line can be megabytes long. */
const MAX_RAW_TITLE = 4096;

export function normaliseTitle(raw: string): string {
  let title = raw.length > MAX_RAW_TITLE ? raw.slice(0, MAX_RAW_TITLE) : raw;
  for (const { pattern, with: replacement } of replacements) {
    for (let round = 0; round < 16; round++) {
      const next = title.replace(pattern, replacement);
      if (next === title) break;
      title = next;
    }
  }
  return sanitiseTitle(title);
}

/** Printable ASCII only, single spaces, at most MAX_TITLE_LENGTH bytes of the input considered. */
export function sanitiseTitle(title: string): string {
  let out = "";
  let prev = " ";
  let bytes = 0;
  for (const ch of title) {
    const code = ch.codePointAt(0) ?? 0;
    // U+FFFD stands for one undecodable byte of the console stream.
    bytes += code < 0x80 || code === 0xfffd ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
    if (bytes > MAX_TITLE_LENGTH) break;
    let c = ch;
    if (c === "\t") c = " ";
    else if (code < 0x20 || code >= 0x7f) continue;
    if (c === " " && prev === " ") continue;
    out += c;
    prev = c;
  }
  return out.trim();
}

/**
 * "kind in place" in at most MAX_TITLE_LENGTH bytes, both parts already normalised. A long kind
 * (UBSan's messages are) is cut at a word boundary and the place it names is kept whole: cutting
 * the whole title at the limit made "... alignment in lstate.c" read "... alignment in lstat".
 */
export function titleWithPlace(kind: string, place: string): string {
  const full = `${kind} in ${place}`;
  if (full.length <= MAX_TITLE_LENGTH) return full;
  const room = MAX_TITLE_LENGTH - ` in ${place}`.length;
  // A place that leaves no room for what happened is itself garbage: cut the whole title.
  if (room < MAX_TITLE_LENGTH / 3) return sanitiseTitle(full);
  const head = kind.slice(0, room + 1);
  const space = head.lastIndexOf(" ");
  const cut = (space > 0 ? head.slice(0, space) : head.slice(0, room)).replace(/[\s,;:]+$/, "");
  return `${cut} in ${place}`;
}

/** The guilty frame named by a title: whatever follows its last " in ". */
export function frameOfTitle(title: string): string {
  const m = /.* in ((?:<[a-zA-Z0-9_: ]+>)?[a-zA-Z0-9_:]+)/.exec(title);
  return m?.[1] ?? "";
}

// Crash types as syzbot names them, decided by the title's prefix; first matching row wins.
const typeByPrefix: readonly (readonly [string, readonly string[]])[] = [
  ["KFENCE-USE-AFTER-FREE-WRITE", ["KFENCE: use-after-free write"]],
  ["KFENCE-USE-AFTER-FREE-READ", ["KFENCE: use-after-free read", "KFENCE: use-after-free"]],
  ["KFENCE-WRITE", ["KFENCE: invalid write", "KFENCE: out-of-bounds write"]],
  ["KFENCE-READ", ["KFENCE: invalid read", "KFENCE: out-of-bounds read", "KFENCE: out-of-bounds"]],
  ["KFENCE-MEMORY-CORRUPTION", ["KFENCE: memory corruption"]],
  ["KFENCE-INVALID-FREE", ["KFENCE: invalid free"]],
  ["KMSAN-UNINIT-VALUE", ["KMSAN: uninit-value"]],
  [
    "KMSAN-USE-AFTER-FREE-READ",
    ["KMSAN: kernel-infoleak-after-free", "KMSAN: kernel-usb-infoleak-after-free", "KMSAN: use-after-free"],
  ],
  ["KMSAN-INFO-LEAK", ["KMSAN: kernel-infoleak", "KMSAN: kernel-usb-infoleak"]],
  ["KASAN-NULL-POINTER-DEREFERENCE-WRITE", ["KASAN: null-ptr-deref Write"]],
  ["KASAN-NULL-POINTER-DEREFERENCE-READ", ["KASAN: null-ptr-deref Read"]],
  ["NULL-POINTER-DEREFERENCE", ["BUG: unable to handle kernel NULL pointer dereference in"]],
  [
    "KASAN-WRITE",
    [
      "KASAN: global-out-of-bounds Write",
      "KASAN: out-of-bounds Write",
      "KASAN: slab-out-of-bounds Write",
      "KASAN: stack-out-of-bounds Write",
      "KASAN: user-memory-access Write",
      "KASAN: vmalloc-out-of-bounds Write",
      "KASAN: wild-memory-access Write",
    ],
  ],
  [
    "KASAN-READ",
    [
      "KASAN: global-out-of-bounds Read",
      "KASAN: invalid-access Read",
      "KASAN: out-of-bounds Read",
      "KASAN: slab-out-of-bounds Read",
      "KASAN: slab-out-of-bounds",
      "KASAN: stack-out-of-bounds Read",
      "KASAN: stack-out-of-bounds",
      "KASAN: unknown-crash Read",
      "KASAN: user-memory-access Read",
      "KASAN: vmalloc-out-of-bounds Read",
      "KASAN: wild-memory-access Read",
      "KASAN: wild-memory-access",
    ],
  ],
  ["KASAN-INVALID-FREE", ["KASAN: double-free or invalid-free", "KASAN: invalid-free"]],
  ["KASAN-USE-AFTER-FREE-WRITE", ["KASAN: slab-use-after-free Write", "KASAN: use-after-free Write"]],
  [
    "KASAN-USE-AFTER-FREE-READ",
    ["KASAN: slab-use-after-free Read", "KASAN: use-after-free Read", "KASAN: use-after-free"],
  ],
  ["MEMORY_SAFETY_BUG", ["BUG: corrupted list", "BUG: unable to handle kernel paging request"]],
  ["REFCOUNT_WARNING", ["WARNING: refcount bug"]],
  ["MEMORY_SAFETY_UBSAN", ["UBSAN: array-index-out-of-bounds"]],
  ["KCSAN-DATARACE", ["KCSAN: data-race"]],
  ["KCSAN-ASSERT", ["KCSAN: assert: race in"]],
  [
    "LOCKDEP",
    [
      "BUG: bad unlock balance in",
      "BUG: held lock freed in",
      "BUG: rwlock",
      "BUG: spinlock",
      "BUG: still has locks held in",
      "BUG: using",
      "WARNING: bad unlock balance in",
      "WARNING: held lock freed in",
      "WARNING: lock held",
      "WARNING: locking bug in",
      "WARNING: nested lock was not taken in",
      "WARNING: still has locks held in",
      "WARNING: suspicious RCU usage in",
      "inconsistent lock state in",
      "possible deadlock in",
    ],
  ],
  ["ATOMIC_SLEEP", ["BUG: scheduling while atomic in", "BUG: sleeping function called from invalid context in"]],
  ["LEAK", ["memory leak in"]],
  ["BUG", ["BUG: bad usercopy in", "kernel BUG"]],
  ["WARNING", ["WARNING in"]],
  [
    "",
    [
      "BUG: stack guard page was hit in",
      "WARNING: corrupted",
      "WARNING: kernel stack frame pointer has bad value",
      "WARNING: kernel stack regs has bad",
    ],
  ],
  ["HANG", ["BUG: soft lockup in", "INFO: rcu detected stall in", "INFO: task can't die in", "INFO: task hung in"]],
  [
    "DoS",
    [
      "Alignment trap in",
      "BUG: Object already free",
      "Internal error in",
      "PANIC: double fault",
      "Unhandled fault in",
      "VFS: Busy inodes after unmount (use-after-free)",
      "VFS: Close: file count is zero (use-after-free)",
      "divide error in",
      "general protection fault in",
      "go runtime error",
      "int3 in",
      "invalid opcode in",
      "kernel panic:",
      "kernel stack overflow",
      "panic:",
      "rust_kernel panicked",
      "stack segment fault in",
      "trusty:",
      "unregister_netdevice: waiting for DEV to become free",
    ],
  ],
  ["NO_OUTPUT", ["no output from test machine"]],
  ["LOST_CONNECTION", ["lost connection to test machine"]],
  ["REBOOT", ["unexpected kernel reboot"]],
  ["SYZ_FAILURE", ["SYZFAIL", "SYZFATAL:"]],
  // Fallbacks by family.
  ["WARNING", ["WARNING:"]],
  ["", ["BUG:", "INFO:"]],
  ["KASAN-UNKNOWN", ["KASAN:"]],
  ["KFENCE-UNKNOWN", ["KFENCE:"]],
  ["KMSAN-UNKNOWN", ["KMSAN:"]],
  ["UBSAN", ["UBSAN:"]],
  ["KCSAN-UNKNOWN", ["KCSAN:"]],
];

/** The crash type of a Linux kernel title; "" when the title says nothing about it. */
export function kernelTypeOfTitle(title: string): string {
  for (const [type, prefixes] of typeByPrefix) {
    if (prefixes.some((prefix) => title.startsWith(prefix))) return type;
  }
  return "";
}

/** Titles culprit itself gives to runs that produced no parseable crash. */
export const NO_OUTPUT_TITLE = "no output from test machine";
export const LOST_CONNECTION_TITLE = "lost connection to test machine";
