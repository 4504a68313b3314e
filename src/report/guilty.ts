// The source file to blame, for picking maintainers: the first file in the report that is not
// generic infrastructure, refined to a deeper file of the same subsystem further down the stack.

// Files that report bugs rather than contain them: headers, lib/, allocators, locking, the
// scheduler, RCU, printk, fault handlers, and core networking/VFS entry points.
const ignoredFiles: readonly RegExp[] = [
  /\.h/, /^lib\/.*/, /^virt\/lib\/.*/, /^mm\/kasan\/.*/, /^mm\/kmsan\/.*/, /^kernel\/kcov.c/, /^mm\/sl.b.c/,
  /^mm\/filemap.c/, /^mm\/folio-compat.c/, /^mm\/truncate.c/, /^mm\/memory.c/, /^mm\/percpu.*/,
  /^mm\/vmalloc.c/, /^mm\/page_alloc.c/, /^mm\/mempool.c/, /^mm\/util.c/, /^kernel\/rcu\/.*/,
  /^arch\/.*\/kernel\/traps.c/, /^arch\/.*\/kernel\/unwind.*.c/, /^arch\/.*\/mm\/fault.c/,
  /^arch\/.*\/mm\/physaddr.c/, /^arch\/.*\/kernel\/stacktrace.c/, /^arch\/.*\/kernel\/apic\/apic.c/,
  /^arch\/arm64\/kernel\/entry.*.c/, /^arch\/arm64\/kernel\/process\.c/, /^kernel\/locking\/.*/,
  /^kernel\/panic.c/, /^kernel\/printk\/printk.*.c/, /^kernel\/softirq.c/, /^kernel\/kthread.c/,
  /^kernel\/sched\/.*.c/, /^kernel\/stacktrace.c/, /^kernel\/time\/timer.c/, /^kernel\/workqueue.c/,
  /^net\/core\/dev.c/, /^net\/core\/sock.c/, /^net\/core\/skbuff.c/, /^fs\/proc\/generic.c/,
  // Trusty sources are not in the kernel tree.
  /^trusty\//,
  // A WARNING in urb.c is a driver's bug.
  /^drivers\/usb\/core\/urb.c/,
  // CRC helpers are almost always handed bad input by their caller.
  /^arch\/.*\/lib\/crc.*/,
];

// Lines naming files that are not where the crash happened: lock-acquisition sites, held locks,
// irq state history, register dumps.
const ignoredLine = /(?:hardirqs|softirqs)\s+last\s+(?:enabled|disabled)|,\s+at:\s+|^\s*#\d+:|^Register r\d+ information/;

const pathChar = /[a-zA-Z0-9_\-./]/;
const nameChar = /[a-zA-Z0-9_-]/;

/**
 * The first "path/file.c:123" (or .h) in a line. Scanned by hand from each ':' leftwards: the
 * equivalent regular expression backtracks quadratically on long runs of path characters.
 */
export function fileReference(line: string): string | null {
  for (let colon = line.indexOf(":"); colon !== -1; colon = line.indexOf(":", colon + 1)) {
    const digit = line.charCodeAt(colon + 1);
    if (digit < 48 || digit > 57 || colon < 3) continue;
    const ext = line[colon - 1];
    if (line[colon - 2] !== "." || (ext !== "c" && ext !== "h") || !nameChar.test(line[colon - 3] ?? "")) continue;
    let start = colon - 3;
    while (start > 0 && pathChar.test(line[start - 1] ?? "")) start--;
    return line.slice(start, colon);
  }
  return null;
}
const deeperPath = /^\/[a-zA-Z0-9_\-./]+\/[a-zA-Z0-9_-]+\.(?:c|h)$/;

/** Path cleaning as Go's filepath.Clean does it for the relative paths found in reports. */
function cleanPath(path: string): string {
  const absolute = path.startsWith("/");
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (parts.length > 0 && parts[parts.length - 1] !== "..") parts.pop();
      else if (!absolute) parts.push("..");
      continue;
    }
    parts.push(part);
  }
  const joined = parts.join("/");
  return absolute ? `/${joined}` : joined === "" ? "." : joined;
}

function dirName(path: string): string {
  const slash = path.lastIndexOf("/");
  if (slash === -1) return ".";
  return slash === 0 ? "/" : path.slice(0, slash);
}

function ignored(file: string, line: string): boolean {
  return ignoredFiles.some((re) => re.test(file)) || ignoredLine.test(line.length > 4096 ? line.slice(0, 4096) : line);
}

function guiltyIn(lines: readonly string[]): string {
  let guilty = "";
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const file = fileReference(line);
    if (file === null) continue;
    // Some file is better than none: with none the report goes to nobody.
    if (guilty === "") guilty = file;
    if (ignored(file, line)) continue;
    guilty = cleanPath(file);
    i++;
    break;
  }
  // A deeper path in the same directory further down is the more specific owner.
  let deepest = dirName(guilty);
  for (; i < lines.length; i++) {
    const line = lines[i] ?? "";
    const file = fileReference(line);
    if (file === null || ignored(file, line)) continue;
    const clean = cleanPath(file);
    if (clean.startsWith(deepest) && deeperPath.test(clean.slice(deepest.length))) {
      guilty = clean;
      deepest = dirName(guilty);
    }
  }
  return guilty;
}

/** The file to blame in an extracted report. */
export function guiltyFileOf(title: string, report: string): string {
  if (title.startsWith("INFO: rcu detected stall")) {
    // Stalls have too many generic frames above the interrupt; start from the interrupt entry.
    for (const entry of ["apic_timer_interrupt+0x", "el1h_64_irq+0x", "Exception stack"]) {
      const at = report.indexOf(entry);
      if (at !== -1) {
        const file = guiltyIn(report.slice(at).split("\n"));
        if (file !== "") return file;
      }
    }
  }
  return guiltyIn(report.split("\n"));
}
