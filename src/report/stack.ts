// Picking the guilty frame out of a kernel report: walk the stack, skip generic infrastructure
// (locking, allocation, string helpers, sanitizer and dump machinery), keep the first real frame.

import { demangle } from "./demangle.js";

/** Placeholder in a format's `parts`: "parse a stack trace here". */
export const STACK = Symbol("stack");
export type StackPart = RegExp | typeof STACK;

/** How a format finds its guilty frame(s). */
export interface StackSpec {
  parts: readonly StackPart[];
  /** Tried when `parts` find no frame. */
  parts2?: readonly StackPart[];
  /** Extra skip patterns for this format (regexp sources, matched anywhere in the function name). */
  skip?: readonly string[];
  /** Chooses the frame from all non-skipped frames; default: the first. */
  pick?: FramePicker;
}

export type FramePicker = (frames: readonly string[]) => { frame: string; index: number };

/**
 * Expands the shorthands used by the oops table. Patterns are matched line by line, so "." may
 * match everything but a newline, as in syzkaller's (Go) patterns: "s" keeps a stray "\r" from
 * breaking a ".*"; patterns that span lines ({{TASK}}) keep "." within one line.
 */
export function rx(source: string, flags = source.includes("{{TASK}}") ? "" : "s"): RegExp {
  return new RegExp(
    source
      .replaceAll("{{ADDR}}", "0x[0-9a-f]+")
      .replaceAll("{{PC}}", "\\[<?(?:0x)?[0-9a-f]+>?\\]")
      .replaceAll("{{FUNC}}", "([a-zA-Z0-9_]+)(?:\\.|\\+)")
      .replaceAll("{{SRC}}", "([a-zA-Z0-9\\-_/.]+\\.[a-z]+:[0-9]+)")
      .replaceAll("{{TASK}}", "[\\s\\S]{0,100}?"),
    flags,
  );
}

/** The line naming the faulting instruction pointer, on each architecture. */
export const ripFrame = rx(
  "(?:IP|NIP|pc |PC is at):? (?:(?:[0-9]+:)?(?:{{PC}} +){0,2}{{FUNC}}|(?:[0-9]+:)?0x[0-9a-f]+|(?:[0-9]+:)?{{PC}} +\\[< *\\(null\\)>\\] +\\(null\\)|[0-9]+: +\\(null\\))",
);
export const callTrace = /Call (?:T|t)race:|Backtrace:/;

// On riscv show_regs() ends with this line and the stack follows without a header.
export const riscvStackStart = /status: [0-9a-f]{16} badaddr: [0-9a-f]{16} cause: [0-9a-f]{16}/;

/** Lines that begin a (new) stack trace. */
export const stackStarts: readonly RegExp[] = [
  /Call (?:T|t)race/,
  /Allocated:/,
  /Allocated by task [0-9]+:/,
  /Freed:/,
  /Freed by task [0-9]+:/,
  // "backtrace:" of kmemleak, but not lockdep's "stack backtrace:".
  /[^k] backtrace(?: \(crc [0-9a-fA-F]*\))?:/,
  /Backtrace:/,
  /Uninit was stored to memory at/,
  riscvStackStart,
];

/** Lines that are stack frames; group 1 (and 2 on arm) is the function. */
export const frameLines: readonly RegExp[] = [
  rx("^ *(?:{{PC}} ){0,2}{{FUNC}}"),
  // arm prints "[<pc>] (callee) from [<pc>] (caller+0x..)": both are frames.
  rx("^ *{{PC}} \\(([a-zA-Z0-9_.]+)\\) from {{PC}} \\({{FUNC}}"),
];

/** Fault-injection stacks get interleaved with real reports; seeing one means the report is mixed. */
const corruptedLine = /^(?: \[<?(?:0x)?[0-9a-f]+>?\])? should_fail(?:slab)?(?:\.[a-z0-9.]+)?\+0x/;

// Generic infrastructure: never the guilty frame.
const skipAlways: readonly string[] = [
  "__sanitizer", "__asan", "kasan", "hwasan", "__msan", "kmsan", "kcsan_setup_watchpoint",
  "check_memory_region", "check_heap_object", "check_object", "read_word_at_a_time",
  "(read|write)_once_.*nocheck", "print_address_description", "panic", "invalid_op", "report_bug",
  "fixup_bug", "print_report", "print_usage_bug", "do_error", "_trap$|do_trap", "show_stack",
  "dump_stack", "walk_stack", "dump_backtrace", "warn_slowpath", "warn_alloc", "warn_bogus", "__warn",
  "alloc_page", "k?v?(?:m|z|c)alloc", "krealloc", "kmem_cache", "allocate_slab",
  "__alloc_frozen_pages_noprof", "folio_(?:alloc|unlock)", "filemap_alloc_folio", "__filemap_get_folio",
  "find_or_create_page", "do_read_cache_folio", "read_cache_page", "pagecache_get_page",
  "grab_cache_page_write_begin", "slab_", "debug_object", "timer_is_static_object",
  "work_is_static_object", "__might_fault", "print_unlock", "imbalance_bug", "lockdep", "bh_enable",
  "bh_disable", "perf_trace", "lock_acquire", "lock_release", "lock_class", "mark_lock",
  "(reacquire|mark)_held_locks", "raw_spin_rq", "spin_lock", "spin_trylock", "spin_unlock", "read_lock",
  "read_trylock", "write_lock", "write_trylock", "read_unlock", "write_unlock", "^down$", "down_read",
  "down_write", "down_read_trylock", "down_write_trylock", "down_trylock", "up_read", "up_write",
  "^mutex_", "^__mutex_", "^rt_mutex_", "owner_on_cpu", "osq_lock", "osq_unlock",
  "atomic(64)?_(dec|inc|read|set|or|xor|and|add|sub|fetch|xchg|cmpxchg|try)", "(set|clear|change|test)_bit",
  "__wake_up", "^refcount_", "^kref_", "ref_tracker", "seqprop_assert", "memcpy", "memcmp", "memset",
  "memchr", "memmove", "memdup", "strcmp", "strncmp", "strcpy", "strlcpy", "strncpy", "strscpy", "strlen",
  "strstr", "strnstr", "strnlen", "strchr", "strdup", "strndup", "copy_to_user", "copy_from_user",
  "copy_to_iter", "copy_from_iter", "copy_page_to_iter", "copy_page_from_iter", "copy_folio_to_iter",
  "^copyin$", "^copyout$", "put_user", "get_user", "might_fault", "might_sleep", "list_add", "list_del",
  "list_replace", "list_move", "list_splice", "^rb_", "^__rb_", "_indirect_thunk_", "string", "pointer",
  "snprintf", "scnprintf", "kasprintf", "kvasprintf", "printk", "va_format", "dev_info", "dev_notice",
  "dev_warn", "dev_err", "dev_alert", "dev_crit", "dev_emerg", "program_check_exception",
  "program_check_common", "del_timer", "flush_work", "__cancel_work_timer", "cancel_work_sync",
  "try_to_grab_pending", "flush_workqueue", "drain_workqueue", "destroy_workqueue", "queue_work",
  "finish_wait", "kthread_stop", "kobject_", "add_uevent_var", "get_device_parent", "device_add",
  "device_del", "device_unregister", "device_destroy", "device_release", "devres_release_all",
  "hwrng_unregister", "i2c_del_adapter", "__unregister_client", "device_for_each_child",
  "rollback_registered", "unregister_netdev", "sysfs_remove", "device_remove_file",
  "tty_unregister_device", "dummy_urb_enqueue", "usb_kill_urb", "usb_kill_anchored_urbs",
  "usb_control_msg", "usb_hcd_submit_urb", "usb_submit_urb", "^complete$", "wait_for_completion",
  "^kv?free$", "kfree_skb", "readb$", "readw$", "readl$", "readq$", "writeb$", "writew$", "writel$",
  "writeq$", "logic_in", "logic_out", "^crc\\d+", "crc_itu_t", "__might_resched", "assertfail", "^iput$",
  "^iput_final$", "^ihold$", "hex_dump_to_buffer", "print_hex_dump", "^klist_",
  "(trace|lockdep)_(hard|soft)irq", "^(un)?lock_page", "stack_trace_consume_entry", "arch_stack_walk",
  "stack_trace_save", "insert_work", "__queue_delayed_work", "queue_delayed_work_on", "ida_free",
  // arm64 exception entry while handling a fault.
  "do_(kernel|translation)_fault", "do_mem_abort", "el1_abort", "el1h_64_sync(?:_handler)?",
  "print_tainted", "xas_(?:start|load|find)", "find_lock_entries", "truncate_inode_pages_range",
  "__phys_addr", "__fortify_report", "cleanup_srcu_struct", "rhashtable_lookup",
  "extract_(user|iter)_to_sg", "drop_nlink", "^get_taint$", "^put_device$", "lock_timer_base",
  "__timer_delete_sync", "sk_stop_timer_sync", "__mod_timer", "fast_dput", "dput", "mark_buffer_dirty",
];

/** Syscall-entry spellings differ by architecture and kernel version; titles use the bare name. */
export const syscallPrefixes: readonly string[] = [
  "SYSC_", "SyS_", "sys_", "__x64_", "__ia32_", "__arm64_", "____sys_", "___sys_", "__sys_", "__se_",
  "__se_sys_", "__do_sys_", "compat_SYSC_", "compat_SyS_", "ksys_",
];

/** The shortest name left after removing any one syscall prefix. */
export function stripSyscallPrefix(frame: string): string {
  let best = frame;
  for (const prefix of syscallPrefixes) {
    if (frame.startsWith(prefix) && frame.length - prefix.length < best.length) best = frame.slice(prefix.length);
  }
  return best;
}

// Shared by every bisection in the process, and safe to: keyed by the oops table's constant skip
// lists, it holds at most one compiled pattern per table row and nothing from any log.
const skipCache = new Map<string, RegExp>();
function skipRegExp(extra: readonly string[] | undefined): RegExp {
  const key = (extra ?? []).join("|");
  let re = skipCache.get(key);
  if (!re) {
    re = new RegExp([...skipAlways, ...(extra ?? [])].join("|"));
    skipCache.set(key, re);
  }
  return re;
}

/** A picked frame: `canonical` has syscall prefixes stripped, `raw` is as printed. */
export interface PickedFrame {
  canonical: string;
  raw: string;
}

function matchAny(line: string, res: readonly RegExp[]): boolean {
  return res.some((re) => re.test(line));
}

function capturedFrames(frames: string[], match: RegExpExecArray | null, skip: RegExp): void {
  if (!match) return;
  for (let i = 1; i < match.length; i++) {
    const printed = match[i];
    if (printed === undefined) continue;
    const name = demangle(printed);
    if (!skip.test(name)) frames.push(name);
  }
}

/**
 * Walks `lines` (the report from the title onwards) following `parts`; one picked frame per
 * stack. `ok` is false when some stack yields no usable frame or fault injection is mixed in.
 */
function walk(lines: readonly string[], parts: readonly StackPart[], skip: RegExp, pick: FramePicker | undefined): { frames: PickedFrame[]; ok: boolean } {
  const choose = (raw: string[]): PickedFrame => {
    if (raw.length === 0) return { canonical: "", raw: "" };
    const stripped = raw.map(stripSyscallPrefix);
    if (!pick) return { canonical: stripped[0] ?? "", raw: raw[0] ?? "" };
    const { frame, index } = pick(stripped);
    return frame === "" ? { canonical: "", raw: "" } : { canonical: frame, raw: raw[index] ?? "" };
  };
  const results: PickedFrame[] = [];
  let raw: string[] = [];
  let ok = true;
  let stacks = 0;
  let at = 0;
  for (let partIdx = 0; ; partIdx++) {
    if (partIdx === parts.length || (parts[partIdx] === STACK && stacks > 0)) {
      let key = choose(raw);
      if (key.canonical === "") {
        key = { canonical: "corrupted", raw: "corrupted" };
        ok = false;
      }
      results.push(key);
      raw = [];
    }
    if (partIdx === parts.length) break;
    const part = parts[partIdx];
    if (part === STACK) {
      stacks++;
      const next = parts[partIdx + 1];
      while (at < lines.length) {
        const line = lines[at++] ?? "";
        if (corruptedLine.test(line)) {
          ok = false;
          break;
        }
        if (matchAny(line, stackStarts)) break;
        if (next !== undefined && next !== STACK) {
          const m = next.exec(line);
          if (m) {
            capturedFrames(raw, m, skip);
            partIdx++;
            break;
          }
        }
        let m: RegExpExecArray | null = null;
        for (const re of frameLines) {
          m = re.exec(line);
          if (m) break;
        }
        capturedFrames(raw, m, skip);
      }
    } else if (part !== undefined) {
      while (at < lines.length) {
        const line = lines[at++] ?? "";
        if (corruptedLine.test(line)) {
          ok = false;
          break;
        }
        const m = part.exec(line);
        if (m) {
          capturedFrames(raw, m, skip);
          break;
        }
      }
    }
  }
  return { frames: results, ok };
}

export function guiltyFrames(lines: readonly string[], spec: StackSpec): { frames: PickedFrame[]; ok: boolean } {
  const skip = skipRegExp(spec.skip);
  const first = walk(lines, spec.parts, skip, spec.pick);
  if (first.ok || !spec.parts2) return first;
  return walk(lines, spec.parts2, skip, spec.pick);
}

/** Is there a stack with frames after every stack header? ("" = yes, else why not). */
export function missingStackReason(report: string): string {
  let hasStack = false;
  for (const start of stackStarts) {
    // Searched in the whole text: a header pattern may use the previous line's newline.
    const m = report.length > MAX_SCANNED_REPORT ? null : start.exec(report);
    if (!m) continue;
    const lines = report.slice(m.index, m.index + 64 * 1024).split("\n");
    // The header line and at least three more (counting the empty tail after the last newline).
    if (lines.length < 4) return "call trace is missed";
    let corrupted = true;
    for (let i = 1; i < 16 && i < lines.length; i++) {
      const line = lines[i] ?? "";
      if (matchAny(line, stackStarts)) break;
      if (line.includes("(stack is not available)") || matchAny(line, frameLines)) {
        hasStack = true;
        corrupted = false;
        break;
      }
    }
    if (start !== riscvStackStart && corrupted) return "no frames in a stack trace";
  }
  return hasStack ? "" : "no stack trace in report";
}

// Reports are cut at MAX_REPORT_LINES lines; this only guards against absurdly long lines.
const MAX_SCANNED_REPORT = 64 * 1024 * 1024;

// Where work enters the kernel: the frame just above one of these names the looping code's owner.
const stallAnchors: readonly RegExp[] = [
  "process_one_work", "do_syscall_", "do_fast_syscall_", "sysenter_dispatch", "tracesys_phase2",
  "el0_svc_handler", "invoke_syscall", "ret_fast_syscall", "netif_receive_skb", "do_softirq",
  "call_timer_fn", "_run_timers", "run_timer_softirq", "hrtimer_run", "run_ksoftirqd",
  "smpboot_thread_fn", "^kthread$", "start_secondary", "cpu_startup_entry", "ret_from_fork",
  "vfs_write", "vfs_read", "vfs_iter_read", "vfs_iter_write", "do_iter_read", "do_iter_write",
  "call_read_iter", "call_write_iter", "new_sync_read", "new_sync_write", "vfs_ioctl", "ksys_ioctl",
  "compat_ioctl", "compat_sys_ioctl", "blkdev_driver_ioctl", "blkdev_ioctl", "^call_read_iter",
  "^call_write_iter", "do_iter_readv_writev", "^call_mmap", "mmap_region", "do_mmap", "do_dentry_open",
  "vfs_open", "^sock_sendmsg", "^sock_recvmsg", "^sock_release", "^__sock_release", "^setsockopt$",
  "kernel_setsockopt", "sock_common_setsockopt", "^listen$", "kernel_listen", "sk_common_release",
  "^sock_mmap", "^accept$", "kernel_accept", "^sock_do_ioctl", "^sock_ioctl", "^compat_sock_ioctl",
  "^nfnetlink_rcv_msg", "^rtnetlink_rcv_msg", "^netlink_dump", "^(sys_)?(socketpair|connect|ioctl)",
  "__do_fault", "do_page_fault", "^page_fault$", "__fput", "task_work_run", "exit_to_usermode",
  "smp_call_function", "tasklet_action", "tasklet_hi_action",
].map((s) => new RegExp(s));

/**
 * Stalls and lockups are caught at a random point inside the looping code, so the top frame is
 * noise; the frame just above the entry point (syscall, work item, timer...) is stable.
 */
export const stallFrame: FramePicker = (frames) => {
  let prev = frames[0] ?? "";
  let prevIdx = 0;
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i] ?? "";
    if (stallAnchors.some((re) => re.test(frame))) {
      if (frame.includes("smp_call_function")) return { frame: "smp_call_function", index: i };
      return { frame: prev, index: prevIdx };
    }
    prev = frame;
    prevIdx = i;
  }
  return { frame: "", index: -1 };
};

const hangAnchors: readonly (readonly [string, string])[] = [
  ["rtnl_lock", ""],
  ["synchronize_rcu", "synchronize_rcu"],
  ["synchronize_srcu", "synchronize_rcu"],
  ["synchronize_net", "synchronize_rcu"],
  ["synchronize_sched", "synchronize_rcu"],
];
const hangSkip = [
  "sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread", "wait", "synchronize",
  "context_switch", "__switch_to", "cancel_delayed_work", "rcu_barrier",
];

/**
 * Hung tasks show the victim, not the culprit: group the common waits (RCU grace periods, rtnl)
 * together, otherwise take the first frame that is not a generic wait.
 */
export const hangFrame: FramePicker = (frames) => {
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i] ?? "";
    for (const [anchor, replacement] of hangAnchors) {
      if (frame.includes(anchor)) return { frame: replacement || frame, index: i };
    }
  }
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i] ?? "";
    if (!hangSkip.some((s) => frame.includes(s))) return { frame, index: i };
  }
  return { frame: "", index: -1 };
};
