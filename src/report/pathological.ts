// Inputs built by repetition in the shapes regex engines choke on (megabyte lines, endless
// headers, frames, paths): the fuzz test checks they parse, bench:parse that time stays linear.

const repeat = (unit: string, bytes: number): string => unit.repeat(Math.max(1, Math.ceil(bytes / unit.length)));

/** Name and maker of an input of about n bytes. */
export const pathological: [string, (bytes: number) => string][] = [
  ["one line of letters", (n) => repeat("a", n)],
  ["one line of BUG: headers", (n) => repeat("BUG: ", n)],
  ["one line of WARNING: headers", (n) => repeat("WARNING: ", n)],
  ["one line of warning: ... uses", (n) => repeat("warning: x uses ", n)],
  ["one line of timestamps and logins", (n) => "[    1.000000] " + repeat(" login: ", n)],
  ["one line of path characters before a .c:", (n) => "BUG: KASAN: use-after-free in f+0x1/0x2\n" + repeat("a/b", n) + ".c:1\n"],
  ["one line of OOM kills", (n) => "BUG: x\n" + repeat("Out of memory: Kill process ", n)],
  ["one line of sanitizer frames", (n) => repeat("#0 0x1 in (", n)],
  ["one line of runtime errors", (n) => repeat("a: runtime error: ", n)],
  ["one line of assertions", (n) => repeat("x: a.c:1: f: Assertion `", n) + "' failed."],
  ["one line of rust panics", (n) => "thread 'a' panicked at " + repeat("'panicked at '", n)],
  ["lines of KASAN headers", (n) => repeat("BUG: KASAN: use-after-free in f+0x1/0x2\n", n)],
  ["lines of questionable frames", (n) => "[    1.0] BUG: soft lockup\n" + repeat("[    1.0]  ? f+0x1/0x2\n", n)],
  ["lines of Call Trace", (n) => "WARNING: suspicious RCU usage\n" + repeat("Call Trace:\n", n)],
  ["lines of long path-like garbage in a report", (n) => "WARNING: suspicious RCU usage\n" + repeat(repeat("a", 900) + "\n", n)],
  ["lines of ASan reports", (n) => repeat("==1==ERROR: AddressSanitizer: SEGV on unknown address 0x0\n    #0 0x1 in f /a.c:1\n", n)],
];

