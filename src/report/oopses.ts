// The Linux oops catalogue: which console lines start a crash report and how each kind of report
// is turned into a syzbot-compatible title. Data, not code: adding a kind is adding a row.

import { STACK, callTrace, hangFrame, ripFrame, rx, stallFrame, type StackSpec } from "./stack.js";

/** One way an oops can be worded. */
export interface OopsFormat {
  /** Finds the title line (searched on lines containing the oops header). */
  title: RegExp;
  /** The title may continue on this many following lines (task names can contain newlines). */
  titleSpan?: number;
  /**
   * Optional: a sequence of patterns, the first on any line, each next one on a later line; its
   * captures replace the title's. Title matched but report not = corrupted report.
   */
  report?: readonly RegExp[];
  /** Title template: %1, %2... are the captures followed by the guilty frame(s). */
  fmt: string;
  alt?: readonly string[];
  stack?: StackSpec;
  /** The report legitimately has no stack trace (don't call it corrupted for that). */
  noStackTrace?: boolean;
  /** Matching this format means the report is truncated or garbled. */
  corrupted?: boolean;
}

export interface Oops {
  /** Literal text whose presence on a line starts a report. */
  header: string;
  formats: readonly OopsFormat[];
  /** Lines that contain the header but are not crashes. */
  ignore: readonly RegExp[];
}

/** Stack of WARNINGs: after the trap ("RIP:") on newer kernels, else from "Call Trace:". */
function warningStack(...skip: string[]): StackSpec {
  return {
    parts: [new RegExp(`(?:${ripFrame.source}|--- interrupt: [0-9]+ at ([a-zA-Z0-9_]+)(?:\\.|\\+))`), STACK],
    parts2: [callTrace, STACK],
    skip,
  };
}

const ripThenTrace = (extra: Partial<StackSpec> = {}): StackSpec => ({ parts: [ripFrame, callTrace, STACK], ...extra });
const traceOnly = (extra: Partial<StackSpec> = {}): StackSpec => ({ parts: [callTrace, STACK], ...extra });
const one = (pattern: string): OopsFormat["report"] => [rx(pattern)];

export const linuxOopses: readonly Oops[] = [
  {
    header: "BUG:",
    formats: [
      {
        title: rx("BUG: KASAN:"),
        report: [rx("BUG: KASAN: ([a-z\\-]+) in {{FUNC}}"), rx("(Read|Write) (?:of size|at addr) (?:[0-9a-f]+)")],
        fmt: "KASAN: %1 %3 in %4",
        alt: ["bad-access in %4"],
        stack: {
          parts: [rx("BUG: KASAN: (?:[a-z\\-]+) in {{FUNC}}"), callTrace, STACK],
          // Present in KASAN_HW_TAGS reports.
          skip: ["kernel_fault", "tag_check", "mem_abort", "^el1_", "^el1h_"],
        },
      },
      {
        title: rx("BUG: KASAN:"),
        report: one("BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}"),
        fmt: "KASAN: invalid-free in %2",
        alt: ["invalid-free in %2"],
        stack: {
          parts: [rx("BUG: KASAN: (?:double-free or invalid-free|double-free|invalid-free) in {{FUNC}}"), callTrace, STACK],
          skip: ["slab_", "kfree", "vunmap", "vfree"],
        },
      },
      {
        title: rx("BUG: KASAN: ([a-z\\-]+) on address"),
        report: [rx("BUG: KASAN: ([a-z\\-]+) on address"), rx("(Read|Write) of size ([0-9]+)")],
        fmt: "KASAN: %1 %2",
      },
      { title: rx("BUG: KASAN: (.*)"), fmt: "KASAN: %1", corrupted: true },
      {
        title: rx("BUG: KMSAN: kernel-usb-infoleak"),
        report: one("BUG: KMSAN: kernel-usb-infoleak in {{FUNC}}"),
        fmt: "KMSAN: kernel-usb-infoleak in %2",
        alt: ["KMSAN origin in %3"],
        stack: {
          parts: [STACK, rx("(Local variable .* created at:|Uninit was created at:)"), STACK],
          skip: ["alloc_skb", "usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg", "usb_control_msg"],
        },
        noStackTrace: true,
      },
      {
        title: rx("BUG: KMSAN:"),
        report: one("BUG: KMSAN: ([a-z\\-]+) in {{FUNC}}"),
        fmt: "KMSAN: %1 in %3",
        alt: ["bad-access in %3"],
        stack: {
          parts: [STACK, rx("(Local variable .* created at:|Uninit was created at:)"), STACK],
          // Crypto and netlink plumbing is where uninit data is noticed, rarely where it is made.
          skip: ["alloc_skb", "netlink_ack", "netlink_rcv_skb", "_encrypt$", "^(?:crypto|cipher|drbg|rng)_"],
        },
        noStackTrace: true,
      },
      { title: rx("BUG: KCSAN: data-race"), report: one("BUG: KCSAN: (.*)"), fmt: "KCSAN: %1", noStackTrace: true },
      { title: rx("BUG: KCSAN:"), report: one("BUG: KCSAN: (.*)"), fmt: "KCSAN: %1", noStackTrace: true },
      {
        title: rx("BUG: KFENCE: (use-after-free|out-of-bounds) (read|write) in {{FUNC}}"),
        fmt: "KFENCE: %1 %2 in %4",
        alt: ["bad-access in %4"],
        stack: { parts: [rx("BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}"), STACK] },
      },
      {
        title: rx("BUG: KFENCE: invalid free in {{FUNC}}"),
        fmt: "KFENCE: invalid free in %2",
        alt: ["invalid-free in %2"],
        noStackTrace: true,
        stack: { parts: [rx("BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}"), STACK] },
      },
      {
        title: rx("BUG: KFENCE: invalid (read|write) in {{FUNC}}"),
        fmt: "KFENCE: invalid %1 in %3",
        alt: ["bad-access in %3"],
        stack: { parts: [rx("BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}"), STACK] },
      },
      {
        title: rx("BUG: KFENCE: memory corruption in {{FUNC}}"),
        fmt: "KFENCE: memory corruption in %2",
        noStackTrace: true,
        stack: { parts: [rx("BUG: KFENCE: (?:[a-z\\- ]+) in {{FUNC}}"), STACK] },
      },
      {
        title: rx("BUG: (?:unable to handle kernel paging request|unable to handle page fault for address|Unable to handle kernel data access)"),
        fmt: "BUG: unable to handle kernel paging request in %1",
        alt: ["bad-access in %1"],
        stack: ripThenTrace(),
      },
      {
        title: rx("BUG: (?:unable to handle kernel NULL pointer dereference|kernel NULL pointer dereference|Kernel NULL pointer dereference)"),
        fmt: "BUG: unable to handle kernel NULL pointer dereference in %1",
        alt: ["bad-access in %1"],
        stack: ripThenTrace(),
      },
      {
        // The header is printed by two printk calls; the second half is often lost.
        title: rx("BUG: (?:unable to handle kernel|Unable to handle kernel)"),
        fmt: "BUG: unable to handle kernel",
        corrupted: true,
      },
      {
        title: rx("BUG: (spinlock|rwlock) (lockup suspected|already unlocked|recursion|cpu recursion|bad magic|wrong owner|wrong CPU|trylock failure on UP)"),
        fmt: "BUG: %1 %2 in %3",
        stack: traceOnly({ skip: ["spin_", "_lock", "_unlock"] }),
      },
      {
        title: rx("BUG: soft lockup"),
        fmt: "BUG: soft lockup in %1",
        alt: ["stall in %1"],
        stack: ripThenTrace({ pick: stallFrame }),
      },
      {
        title: rx("BUG: .*still has locks held!"),
        report: [rx("BUG: .*still has locks held!"), rx("{{PC}} +{{FUNC}}")],
        fmt: "BUG: still has locks held in %1",
      },
      {
        title: rx("BUG: scheduling while atomic"),
        fmt: "BUG: scheduling while atomic in %1",
        stack: traceOnly({ skip: ["schedule"] }),
      },
      {
        title: rx("BUG: lock held when returning to user space"),
        report: [
          rx("BUG: lock held when returning to user space"),
          rx("leaving the kernel with locks still held"),
          rx("at: (?:{{PC}} +)?{{FUNC}}"),
        ],
        fmt: "BUG: lock held when returning to user space in %1",
        noStackTrace: true,
      },
      {
        title: rx("BUG: bad unlock balance detected!"),
        fmt: "BUG: bad unlock balance in %1",
        stack: { parts: [rx("{{PC}} +{{FUNC}}"), callTrace, STACK] },
      },
      {
        title: rx("BUG: held lock freed!"),
        report: [rx("BUG: held lock freed!"), rx("{{PC}} +{{FUNC}}")],
        fmt: "BUG: held lock freed in %1",
      },
      { title: rx("BUG: Bad rss-counter state"), fmt: "BUG: Bad rss-counter state", noStackTrace: true },
      { title: rx("BUG: non-zero nr_ptes on freeing mm"), fmt: "BUG: non-zero nr_ptes on freeing mm", noStackTrace: true },
      { title: rx("BUG: non-zero nr_pmds on freeing mm"), fmt: "BUG: non-zero nr_pmds on freeing mm", noStackTrace: true },
      {
        // Block device names (loop0, loop1...) and filesystem types would split one bug in many.
        title: rx("BUG: Dentry .* still in use"),
        report: one("BUG: Dentry .* still in use \\([0-9]+\\) \\[(unmount) of ([^\\]]+)\\]"),
        fmt: "BUG: Dentry still in use in %1",
        alt: ["BUG: Dentry still in use [%1 of %2]"],
      },
      {
        title: rx("BUG: Bad page (state|cache)"),
        fmt: "BUG: Bad page %1 in %2",
        stack: {
          parts: [/page last allocated/, STACK],
          skip: ["(free|put|get|update|release)_page", "free_unref", "^_*folio", "truncate_inode_pages", "page_frag_free", "alloc", "vmap", "page_owner"],
        },
      },
      { title: rx("BUG: Bad page map"), fmt: "BUG: Bad page map" },
      { title: rx("BUG: workqueue lockup"), fmt: "BUG: workqueue lockup", noStackTrace: true },
      {
        title: rx("BUG: sleeping function called from invalid context at (.*)"),
        fmt: "BUG: sleeping function called from invalid context in %2",
        stack: traceOnly(),
      },
      {
        title: rx("BUG: using ([a-z_]+)\\(\\) in preemptible"),
        fmt: "BUG: using %1() in preemptible code in %2",
        stack: traceOnly({ skip: ["dump_stack", "preemption", "preempt", "debug_", "processor_id", "this_cpu"] }),
      },
      {
        title: rx("BUG: workqueue leaked lock or atomic"),
        report: [rx("BUG: workqueue leaked lock or atomic"), rx("last function: ([a-zA-Z0-9_]+)$")],
        fmt: "BUG: workqueue leaked lock or atomic in %1",
        noStackTrace: true,
      },
      {
        title: rx("BUG: memory leak"),
        fmt: "memory leak in %1",
        stack: {
          parts: [rx("backtrace(?: \\(crc [0-9a-fA-F]*\\))?:"), STACK],
          skip: ["kmemleak", "mmap", "kmem", "slab", "alloc", "create_object", "idr_get", "list_lru_init", "kasprintf", "kvasprintf", "pcpu_create", "strdup", "strndup", "memdup"],
        },
      },
      {
        title: rx("BUG: .*stack guard page was hit at"),
        fmt: "BUG: stack guard page was hit in %1",
        alt: ["stack-overflow in %1"],
        stack: ripThenTrace({ pick: stallFrame }),
      },
      {
        // arm prints this where x86 prints a lockdep WARNING: same bug, same title.
        title: rx("BUG: Invalid wait context"),
        fmt: "WARNING: locking bug in %1",
        stack: traceOnly({ skip: ["lock_sock", "release_sock"] }),
      },
      { title: /BUG:\s*$/, fmt: "BUG: corrupted", corrupted: true },
    ],
    ignore: [/ODEBUG:/, /Boot_DEBUG:/, /xlog_status:/, /DEBUG:/, /BUG: no syscalls can create resource/],
  },
  {
    header: "WARNING:",
    formats: [
      {
        title: rx("WARNING: .*lib/debugobjects\\.c.* (?:debug_print|debug_check|at)"),
        fmt: "WARNING: ODEBUG bug in %1",
        // The users of debug objects are infrastructure too.
        stack: warningStack("debug_", "rcu", "hrtimer_", "timer_", "work_", "percpu_", "vunmap", "vfree", "__free_", "debug_check", "kobject_"),
      },
      { title: rx("WARNING: .*mm/usercopy\\.c.* (?:usercopy_warn|at)"), fmt: "WARNING: bad usercopy in %1", stack: warningStack("usercopy", "__check") },
      { title: rx("WARNING: .*lib/kobject\\.c.* (?:kobject_|at)"), fmt: "WARNING: kobject bug in %1", stack: warningStack("kobject_") },
      { title: rx("WARNING: .*fs/proc/generic\\.c.* (?:proc_register|at)"), fmt: "WARNING: proc registration bug in %1", stack: warningStack("proc_") },
      { title: rx("WARNING: .*lib/refcount\\.c.* (?:refcount_|at)"), fmt: "WARNING: refcount bug in %1", stack: warningStack("refcount", "kobject_") },
      { title: rx("WARNING: .*kernel/locking/lockdep\\.c.*lock_"), fmt: "WARNING: locking bug in %1", stack: warningStack("lock_sock", "release_sock") },
      {
        title: rx("WARNING: .*still has locks held!"),
        report: [rx("WARNING: .*still has locks held!"), rx("at: {{FUNC}}")],
        fmt: "WARNING: still has locks held in %1",
      },
      { title: rx("WARNING: Nested lock was not taken"), fmt: "WARNING: nested lock was not taken in %1", stack: warningStack() },
      {
        title: rx("WARNING: lock held when returning to user space"),
        report: [
          rx("WARNING: lock held when returning to user space"),
          rx("leaving the kernel with locks still held"),
          rx("at: (?:{{PC}} +)?{{FUNC}}"),
        ],
        fmt: "WARNING: lock held when returning to user space in %1",
        noStackTrace: true,
      },
      { title: rx("WARNING: .*mm/.*\\.c.* k?.?malloc"), fmt: "WARNING: kmalloc bug in %1", stack: warningStack("kmalloc", "krealloc", "slab", "kmem") },
      { title: rx("WARNING: .*mm/vmalloc.c.*__vmalloc_node"), fmt: "WARNING: zero-size vmalloc in %1", stack: warningStack() },
      {
        title: rx("WARNING: .* usb_submit_urb"),
        fmt: "WARNING in %1/usb_submit_urb",
        stack: warningStack("usb_submit_urb", "usb_start_wait_urb", "usb_bulk_msg", "usb_interrupt_msg", "usb_control_msg"),
      },
      { title: rx("WARNING: {{SRC}} at 0x\\d+, CPU#\\d+"), fmt: "WARNING in %2", stack: warningStack() },
      { title: rx("WARNING: .* at {{SRC}} {{FUNC}}"), fmt: "WARNING in %3", stack: warningStack() },
      { title: rx("WARNING: {{SRC}} at {{FUNC}}"), fmt: "WARNING in %3", stack: warningStack() },
      { title: rx("WARNING: \\[.*\\] {{SRC}} at {{FUNC}}.*"), fmt: "WARNING in %3", stack: warningStack() },
      {
        title: rx("WARNING: possible circular locking dependency detected"),
        report: [rx("WARNING: possible circular locking dependency detected"), /is trying to acquire lock/],
        fmt: "possible deadlock in %1",
        stack: {
          parts: [rx("at: (?:{{PC}} +)?{{FUNC}}"), rx("at: (?:{{PC}} +)?{{FUNC}}"), STACK],
          // Work items' pseudo-locks: deadlocks there belong to the workqueue machinery.
          skip: ["process_one_work", "flush_workqueue", "drain_workqueue", "destroy_workqueue"],
        },
      },
      {
        title: rx("WARNING: possible irq lock inversion dependency detected"),
        report: [
          rx("WARNING: possible irq lock inversion dependency detected"),
          rx("just changed the state of lock"),
          rx("at: (?:{{PC}} +)?{{FUNC}}"),
        ],
        fmt: "possible deadlock in %1",
      },
      {
        title: rx("WARNING: .*-safe -> .*-unsafe lock order detected"),
        fmt: "possible deadlock in %1",
        stack: { parts: [rx("which became (?:.*) at:"), STACK] },
      },
      {
        title: rx("WARNING: possible recursive locking detected"),
        report: [rx("WARNING: possible recursive locking detected"), rx("is trying to acquire lock"), rx("at: (?:{{PC}} +)?{{FUNC}}")],
        fmt: "possible deadlock in %1",
      },
      {
        title: rx("WARNING: inconsistent lock state"),
        report: [rx("WARNING: inconsistent lock state"), rx("takes"), rx("at: (?:{{PC}} +)?{{FUNC}}")],
        fmt: "inconsistent lock state in %2",
        stack: traceOnly(),
      },
      {
        title: rx("WARNING: suspicious RCU usage"),
        report: [rx("WARNING: suspicious RCU usage"), rx("{{SRC}}")],
        fmt: "WARNING: suspicious RCU usage in %2",
        stack: traceOnly({ skip: ["rcu", "kmem", "slab"] }),
      },
      {
        title: rx("WARNING: kernel stack regs at [0-9a-f]+ in [^ ]* has bad '([^']+)' value"),
        fmt: "WARNING: kernel stack regs has bad '%1' value",
        noStackTrace: true,
      },
      {
        title: rx("WARNING: kernel stack frame pointer at [0-9a-f]+ in [^ ]* has bad value"),
        fmt: "WARNING: kernel stack frame pointer has bad value",
        noStackTrace: true,
      },
      {
        title: rx("WARNING: bad unlock balance detected!"),
        fmt: "WARNING: bad unlock balance in %1",
        stack: { parts: [rx("{{PC}} +{{FUNC}}"), callTrace, STACK] },
      },
      {
        title: rx("WARNING: held lock freed!"),
        report: [rx("WARNING: held lock freed!"), rx("at:(?: {{PC}})? +{{FUNC}}")],
        fmt: "WARNING: held lock freed in %1",
      },
      { title: rx("WARNING: kernel stack regs .* has bad 'bp' value"), fmt: "WARNING: kernel stack regs has bad value", noStackTrace: true },
      { title: rx("WARNING: kernel stack frame pointer .* has bad value"), fmt: "WARNING: kernel stack regs has bad value", noStackTrace: true },
      { title: /WARNING:\s*$/, fmt: "WARNING: corrupted", corrupted: true },
    ],
    ignore: [
      // Printed by sshd, glibc, the workqueue code, mitigations, filesystems: not kernel bugs.
      /WARNING: \/etc\/ssh\/moduli does not exist, using fixed modulus/,
      /WARNING: workqueue cpumask: online intersect > possible intersect/,
      /WARNING: [Tt]he mand mount option/,
      /WARNING: Unsupported flag value\(s\) of 0x%x in DT_FLAGS_1/,
      /WARNING: Unprivileged eBPF is enabled with eIBRS/,
      /WARNING: fbcon: Driver '(.*)' missed to adjust virtual screen size/,
      /WARNING: See https.* for mitigation options./,
      /WARNING: kernel not compiled with CPU_SRSO/,
      /EXT4-[Ff][Ss](?: \(.*\))?:/,
      /warning: .* uses (?:deprecated v2 capabilities|wireless extensions)/i,
      /XFS \(\w+\): WARNING/,
    ],
  },
  {
    header: "INFO:",
    formats: [
      {
        title: rx("INFO: possible circular locking dependency detected"),
        report: [rx("INFO: possible circular locking dependency detected \\]"), rx("is trying to acquire lock"), rx("at: {{PC}} +{{FUNC}}")],
        fmt: "possible deadlock in %1",
      },
      {
        title: rx("INFO: possible irq lock inversion dependency detected"),
        report: [rx("INFO: possible irq lock inversion dependency detected \\]"), rx("just changed the state of lock"), rx("at: {{PC}} +{{FUNC}}")],
        fmt: "possible deadlock in %1",
      },
      {
        title: rx("INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected"),
        report: [rx("INFO: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected \\]"), rx("is trying to acquire"), rx("at: {{PC}} +{{FUNC}}")],
        fmt: "possible deadlock in %1",
      },
      {
        title: rx("INFO: possible recursive locking detected"),
        report: [rx("INFO: possible recursive locking detected \\]"), rx("is trying to acquire lock"), rx("at: {{PC}} +{{FUNC}}")],
        fmt: "possible deadlock in %1",
      },
      {
        title: rx("INFO: inconsistent lock state"),
        report: [rx("INFO: inconsistent lock state \\]"), rx("takes"), rx("at: {{PC}} +{{FUNC}}")],
        fmt: "inconsistent lock state in %1",
      },
      {
        title: rx("INFO: rcu_(?:preempt|sched|bh|tasks) (?:self-)?detected(?: expedited)? stall"),
        fmt: "INFO: rcu detected stall in %1",
        alt: ["stall in %1"],
        stack: {
          parts: [/apic_timer_interrupt/, ripFrame, STACK],
          parts2: [/(?:apic_timer_interrupt|Exception stack|el1h_64_irq)/, STACK],
          skip: ["apic_timer_interrupt", "rcu"],
          pick: stallFrame,
        },
      },
      {
        title: rx("INFO: trying to register non-static key"),
        fmt: "INFO: trying to register non-static key in %1",
        stack: traceOnly({ skip: ["stack", "lock", "IRQ"] }),
      },
      {
        title: rx("INFO: suspicious RCU usage"),
        report: [rx("INFO: suspicious RCU usage"), rx("{{SRC}}")],
        fmt: "INFO: suspicious RCU usage in %2",
        stack: traceOnly({ skip: ["rcu", "kmem", "slab"] }),
      },
      {
        title: rx("INFO: task {{TASK}} blocked (?:in I/O wait )?for more than [0-9]+ seconds"),
        titleSpan: 4,
        fmt: "INFO: task hung in %1",
        alt: ["hang in %1"],
        stack: traceOnly({ pick: hangFrame }),
      },
      {
        title: rx("INFO: task {{TASK}} can't die for more than .* seconds"),
        titleSpan: 4,
        fmt: "INFO: task can't die in %1",
        alt: ["hang in %1"],
        stack: traceOnly({ skip: ["schedule"] }),
      },
      // Old-style KASAN reports that lost their header.
      { title: rx("INFO: (Freed|Allocated) in (.*)"), fmt: "INFO: %1 in %2", corrupted: true },
      { title: /INFO:\s*$/, fmt: "INFO: corrupted", corrupted: true },
    ],
    ignore: [
      /INFO: lockdep is turned off/,
      /INFO: Stall ended before state dump start/,
      /INFO: NMI handler/,
      /INFO: recovery required on readonly filesystem/,
      /(?:handler|interrupt).*took too long/,
      /INFO: sys_.* is not present in \/proc\/kallsyms/,
      /INFO: no syscalls can create resource/,
      /rmt_storage:INFO:/,
      // "INVALID BTF_INFO:..." is not an INFO: message.
      /_INFO:/,
    ],
  },
  {
    header: "Unable to handle kernel",
    formats: [
      {
        title: rx("Unable to handle kernel (paging request|NULL pointer dereference|access to user memory)"),
        fmt: "BUG: unable to handle kernel %1 in %2",
        alt: ["bad-access in %2"],
        stack: ripThenTrace(),
      },
    ],
    ignore: [],
  },
  {
    header: "general protection fault",
    formats: [
      {
        title: rx("general protection fault.*:"),
        fmt: "general protection fault in %1",
        alt: ["bad-access in %1"],
        stack: ripThenTrace(),
      },
    ],
    // A userspace program's fault, logged by the kernel.
    ignore: [/general protection fault .* error:\d+ in /],
  },
  {
    header: "stack segment: ",
    formats: [{ title: rx("stack segment: "), fmt: "stack segment fault in %1", stack: ripThenTrace() }],
    ignore: [],
  },
  {
    header: "Kernel panic",
    formats: [
      // The stack protector may fail to print a symbol or to unwind.
      {
        title: rx("Kernel panic - not syncing: stack-protector:"),
        report: one("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: {{FUNC}}"),
        fmt: "kernel panic: stack is corrupted in %1",
        noStackTrace: true,
      },
      {
        title: rx("Kernel panic - not syncing: stack-protector:"),
        report: one("Kernel panic - not syncing: stack-protector: Kernel stack is corrupted in: [a-f0-9]+"),
        fmt: "kernel panic: stack is corrupted in %1",
        stack: traceOnly({ skip: ["stack_chk"] }),
      },
      {
        title: rx("Kernel panic - not syncing: corrupted stack end"),
        report: one("Kernel panic - not syncing: corrupted stack end detected inside scheduler"),
        fmt: "kernel panic: corrupted stack end in %1",
        alt: ["stack-overflow in %1"],
        stack: traceOnly({ skip: ["schedule", "retint_kernel"], pick: stallFrame }),
      },
      {
        title: rx("Kernel panic - not syncing: kernel stack overflow"),
        fmt: "kernel stack overflow in %1",
        alt: ["stack-overflow in %1"],
        stack: traceOnly({ skip: ["bad_stack"], pick: stallFrame }),
      },
      { title: rx("Kernel panic - not syncing: Attempted to kill init!"), fmt: "kernel panic: Attempted to kill init!" },
      {
        title: rx("Kernel panic - not syncing: Couldn't open N_TTY ldisc for [^ ]+ --- error -[0-9]+"),
        fmt: "kernel panic: Couldn't open N_TTY ldisc",
      },
      // These follow the real report; seeing them first means its header was lost.
      { title: rx("Kernel panic - not syncing: Fatal exception"), fmt: "kernel panic: Fatal exception", corrupted: true },
      { title: rx("Kernel panic - not syncing: panic_on_warn set"), fmt: "kernel panic: panic_on_warn set", corrupted: true },
      { title: rx("Kernel panic - not syncing: hung_task: blocked tasks"), fmt: "kernel panic: hung_task: blocked tasks", corrupted: true },
      { title: rx("Kernel panic - not syncing: (.*)"), fmt: "kernel panic: %1" },
    ],
    ignore: [],
  },
  {
    header: "PANIC: double fault",
    formats: [{ title: rx("PANIC: double fault"), fmt: "PANIC: double fault in %1", stack: { parts: [ripFrame] } }],
    ignore: [],
  },
  {
    header: "rust_kernel: panicked",
    formats: [
      {
        title: rx("rust_kernel: panicked"),
        report: [rx("rust_kernel: panicked at "), /^(.+)$/],
        fmt: "%1 in %2",
        stack: traceOnly({ skip: ["__rustc::rust_begin_unwind"] }),
      },
    ],
    ignore: [],
  },
  {
    header: "kernel BUG",
    formats: [
      { title: rx("kernel BUG at mm/usercopy.c"), fmt: "BUG: bad usercopy in %1", stack: traceOnly({ skip: ["usercopy", "__check"] }) },
      // Also memory corruption or a race, hence the bad-access alternative.
      { title: rx("kernel BUG at lib/list_debug.c"), fmt: "BUG: corrupted list in %1", alt: ["bad-access in %1"], stack: traceOnly() },
      // skb helpers are full of BUG_ON; the bug is in their caller.
      { title: rx("kernel BUG at (.*)"), fmt: "kernel BUG in %2", stack: ripThenTrace({ skip: ["^skb_"] }) },
    ],
    ignore: [],
  },
  { header: "Kernel BUG", formats: [{ title: rx("Kernel BUG (.*)"), fmt: "kernel BUG %1" }], ignore: [] },
  { header: "BUG kmalloc-", formats: [{ title: rx("BUG kmalloc-.*: Object already free"), fmt: "BUG: Object already free" }], ignore: [] },
  { header: "divide error:", formats: [{ title: rx("divide error: "), fmt: "divide error in %1", stack: { parts: [ripFrame] } }], ignore: [] },
  // The spelling of some kernels since the IDTENTRY conversion.
  { header: "divide_error:", formats: [{ title: rx("divide_error: "), fmt: "divide error in %1", stack: { parts: [ripFrame] } }], ignore: [] },
  { header: "invalid opcode:", formats: [{ title: rx("invalid opcode: "), fmt: "invalid opcode in %1", stack: { parts: [ripFrame] } }], ignore: [] },
  { header: "int3:", formats: [{ title: rx("int3: "), fmt: "int3 in %1", stack: ripThenTrace() }], ignore: [] },
  {
    header: "UBSAN:",
    formats: [
      {
        title: rx("UBSAN:"),
        report: one("UBSAN: Undefined behaviour in"),
        fmt: "UBSAN: undefined-behaviour in %1",
        stack: traceOnly({ skip: ["ubsan", "overflow"] }),
      },
      {
        title: rx("UBSAN: array-index-out-of-bounds in"),
        fmt: "UBSAN: array-index-out-of-bounds in %1",
        alt: ["bad-access in %1"],
        stack: traceOnly({ skip: ["ubsan", "overflow"] }),
      },
      { title: rx("UBSAN:"), report: one("UBSAN: (.*?) in"), fmt: "UBSAN: %1 in %2", stack: traceOnly({ skip: ["ubsan", "overflow"] }) },
    ],
    ignore: [],
  },
  {
    header: "Booting the kernel.",
    formats: [{ title: /^Booting the kernel/, fmt: "unexpected kernel reboot", noStackTrace: true }],
    // Boot messages echoed back by the kernel as a bogus mount option are not a reboot.
    ignore: [/Parsing ELF|Decompressing Linux|Unknown parameter '/],
  },
  {
    header: "unregister_netdevice: waiting for",
    formats: [
      { title: rx("unregister_netdevice: waiting for (?:.*) to become free"), fmt: "unregister_netdevice: waiting for DEV to become free", noStackTrace: true },
    ],
    ignore: [],
  },
  {
    header: "VFS: Close: file count is 0",
    formats: [{ title: rx("VFS: Close: file count is 0"), fmt: "VFS: Close: file count is zero (use-after-free)", noStackTrace: true }],
    ignore: [],
  },
  {
    header: "VFS: Busy inodes after unmount",
    formats: [{ title: rx("VFS: Busy inodes after unmount"), fmt: "VFS: Busy inodes after unmount (use-after-free)", noStackTrace: true }],
    ignore: [],
  },
  {
    header: "Internal error:",
    // arm64's synchronous external abort is arm's paging request: merge them.
    formats: [{ title: rx("Internal error:"), fmt: "Internal error in %1", alt: ["bad-access in %1"], stack: ripThenTrace() }],
    ignore: [],
  },
  {
    header: "Unhandled fault:",
    // arm's domain fault is x86's general protection fault.
    formats: [{ title: rx("Unhandled fault:"), fmt: "Unhandled fault in %1", alt: ["bad-access in %1"], stack: ripThenTrace() }],
    ignore: [],
  },
  {
    header: "Alignment trap:",
    formats: [{ title: rx("Alignment trap:"), fmt: "Alignment trap in %1", stack: ripThenTrace() }],
    ignore: [],
  },
  {
    header: "trusty: panic",
    formats: [
      {
        title: rx("trusty: panic.* ASSERT FAILED"),
        report: one("trusty: panic \\(.*?\\):(?: DEBUG)? ASSERT FAILED at \\(.*?\\): (.+)"),
        fmt: "trusty: ASSERT FAILED: %1",
        noStackTrace: true,
      },
      { title: rx("trusty: panic.* ASSERT FAILED.*: *(.*)"), fmt: "trusty: ASSERT FAILED: %1", corrupted: true },
      { title: rx("trusty: panic"), report: one("trusty: panic \\(.*?\\): (.+)"), fmt: "trusty: panic: %1", noStackTrace: true },
    ],
    ignore: [],
  },
  {
    header: "fatal error:",
    formats: [{ title: rx("fatal error:"), fmt: "go runtime error", noStackTrace: true }],
    ignore: [/ALSA/, /fatal error: cannot create timer/],
  },
  // Produced by syzkaller's executor and tools (and Go programs in general).
  { header: "SYZFAIL:", formats: [{ title: rx("SYZFAIL:(.*)"), fmt: "SYZFAIL:%1", noStackTrace: true }], ignore: [] },
  {
    header: "SYZFATAL:",
    formats: [{ title: rx("SYZFATAL:(.*)()"), alt: ["SYZFATAL%2"], fmt: "SYZFATAL:%1", noStackTrace: true }],
    ignore: [],
  },
  {
    header: "panic:",
    formats: [
      { title: rx("panic: Sentry detected .* stuck task"), fmt: "panic: Sentry detected stuck tasks", noStackTrace: true },
      { title: rx("panic:(.*)"), fmt: "panic:%1", noStackTrace: true },
    ],
    // skb_panic and friends are kernel functions, not Go panics.
    ignore: [/_panic:/, /xlog_status:/, /ddb\.onpanic:/, /evtlog_status:/],
  },
];

/** Headers that may appear inside another report without starting a new one. */
export const reportStartIgnores: readonly RegExp[] = [
  /invalid opcode: 0000/,
  /Kernel panic - not syncing/,
  /unregister_netdevice: waiting for/,
  // Double faults happen while handling a page fault on badly corrupted memory: same report.
  /PANIC: double fault/,
  /Internal error:/,
];

/** Messages with a stack that are not bugs: inside a report they mean two reports got mixed. */
export const infoMessagesWithStack: readonly string[] = [
  "vmalloc: allocation failure:",
  "FAULT_INJECTION: forcing a failure",
  "FAULT_FLAG_ALLOW_RETRY missing",
];

/** A crash the fuzzer causes itself: `pattern` is checked on lines containing `anchor`. */
export interface Suppression {
  anchor: string;
  pattern: RegExp;
}

/** Crashes the fuzzer causes itself (out-of-memory kills of its own processes...): not bugs. */
export const suppressions: readonly Suppression[] = [
  { anchor: "panic: failed to start executor binary", pattern: /panic: failed to start executor binary/ },
  { anchor: "panic: executor failed: pthread_create failed", pattern: /panic: executor failed: pthread_create failed/ },
  { anchor: "panic: failed to create temp dir", pattern: /panic: failed to create temp dir/ },
  // Out-of-memory turned into SIGBUS.
  { anchor: "fatal error: unexpected signal during runtime execution", pattern: /fatal error: unexpected signal during runtime execution/ },
  { anchor: "signal SIGBUS: bus error", pattern: /signal SIGBUS: bus error/ },
  { anchor: "SYZFAIL: SIGBUS", pattern: /SYZFAIL: SIGBUS/ },
  { anchor: "Out of memory: Kill process ", pattern: /Out of memory: Kill process .* \((?:syz-executor|sshd)\)/ },
  { anchor: "Killed process ", pattern: /Killed process .* \((?:syz-executor|sshd)\)/ },
  { anchor: "lowmemorykiller: Killing '", pattern: /lowmemorykiller: Killing '(?:syz-executor|sshd)'/ },
  { anchor: "INIT: PANIC: segmentation violation!", pattern: /INIT: PANIC: segmentation violation!/ },
  { anchor: "*** stack smashing detected ***: terminated", pattern: /\*\*\* stack smashing detected \*\*\*: terminated/ },
  // Go programs (the fuzzer's own tools) running out of memory.
  { anchor: "fatal error: runtime: out of memory", pattern: /fatal error: runtime: out of memory/ },
  { anchor: "fatal error: runtime: cannot allocate memory", pattern: /fatal error: runtime: cannot allocate memory/ },
  { anchor: "fatal error: out of memory", pattern: /fatal error: out of memory/ },
  { anchor: "fatal error: newosproc", pattern: /fatal error: newosproc/ },
  { anchor: "panic: ", pattern: /panic: .*cannot allocate memory/ },
];
