// A crash named by its title alone (a job's `crash:`, `--crash`, a title copied from syzbot's
// dashboard): the type, guilty frame and alternative titles report/ gives the report that carries
// that title. A bisection can then spare the target's own type and compare crashes with it before
// any run has shown it; the first run that does only refines what the title said.

import type { CrashIdentity } from "./types.js";
import { linuxOopses } from "./oopses.js";
import { frameOfTitle, kernelTypeOfTitle, NO_OUTPUT_TITLE } from "./titles.js";

/** Where the titled crash is printed: a kernel console, or a program's own output. */
export type CrashConsole = "kernel" | "program";

/** A title template of the oops catalogue read backwards: captures by placeholder number. */
interface AltTemplate {
  pattern: RegExp;
  /** Placeholder number of each capture group, in order. */
  placeholders: number[];
  /** Characters of fixed text: among templates that fit a title, the one fixing most of it made it. */
  literal: number;
  alt: readonly string[];
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function templateOf(fmt: string, alt: readonly string[]): AltTemplate {
  const parts = fmt.split(/%(\d)/);
  const placeholders: number[] = [];
  let source = "";
  let literal = 0;
  parts.forEach((part, i) => {
    if (i % 2 === 0) {
      source += escape(part);
      literal += part.length;
    } else if (placeholders.includes(Number(part))) {
      source += `\\${placeholders.indexOf(Number(part)) + 1}`;
    } else {
      placeholders.push(Number(part));
      // The last placeholder takes the rest; earlier ones as little as lets the literals between match.
      source += i === parts.length - 2 ? "(.+)" : "(.+?)";
    }
  });
  return { pattern: new RegExp(`^${source}$`), placeholders, literal, alt };
}

const titleTemplates: readonly AltTemplate[] = linuxOopses.flatMap((oops) => oops.formats.filter((f) => !f.corrupted).map((f) => templateOf(f.fmt, f.alt ?? [])));

/**
 * The alternative titles the catalogue gives a kernel report titled `title`, as far as the
 * title's own parts fill them. "KFENCE: %1 %2 in %4" also fits "KFENCE: invalid free in f": the
 * template with the most fixed text that fits is the one that made the title.
 */
function kernelAltTitles(title: string): string[] {
  let best: { template: AltTemplate; match: RegExpExecArray } | undefined;
  for (const template of titleTemplates) {
    if (best && template.literal <= best.template.literal) continue;
    const match = template.pattern.exec(title);
    if (match) best = { template, match };
  }
  if (!best) return [];
  const { template, match } = best;
  const value = new Map(template.placeholders.map((n, i) => [n, match[i + 1] ?? ""]));
  // An alternative built from a part of the report the title does not show cannot be known.
  return template.alt
    .filter((a) => [...a.matchAll(/%(\d)/g)].every((p) => value.has(Number(p[1]))))
    .map((a) => a.replace(/%(\d)/g, (_, n: string) => value.get(Number(n)) ?? ""));
}

/** Everything after a title's last " in ": the place a userspace title names, "" when none. */
function placeOf(title: string): string {
  const at = title.lastIndexOf(" in ");
  return at === -1 ? "" : title.slice(at + 4);
}

/** "lstate.c", "main.rs": a userspace title names a source file where no function was known. */
const sourceFile = /^[\w+-]+\.(?:c|cc|cpp|cxx|h|hpp|rs|go|m|mm|zig)$/;

/** The guilty function a userspace title names: its place, unless that place is a file. */
function functionPlace(title: string): string {
  const place = placeOf(title);
  return sourceFile.test(place) ? "" : place;
}

const slug = (kind: string): string => kind.toUpperCase().replace(/[^A-Z0-9]+/g, "-").replace(/^-|-$/g, "");

/** A sanitizer's kind: the text between "Tool: " and " in <place>" (all of it without a place). */
function kindOf(title: string, prefix: string): string {
  const rest = title.slice(prefix.length);
  const at = rest.lastIndexOf(" in ");
  return at === -1 ? rest : rest.slice(0, at);
}

interface ProgramTitle {
  prefix: string;
  type: (title: string) => string;
  frame: (title: string) => string;
}

// The titles userspace.ts and the process runner give, by prefix (see index.ts for the forms).
const programTitles: readonly ProgramTitle[] = [
  { prefix: "AddressSanitizer: ", type: (t) => `ASAN-${slug(kindOf(t, "AddressSanitizer: "))}`, frame: functionPlace },
  { prefix: "HWAddressSanitizer: ", type: (t) => `HWASAN-${slug(kindOf(t, "HWAddressSanitizer: "))}`, frame: functionPlace },
  { prefix: "MemorySanitizer: ", type: (t) => `MSAN-${slug(kindOf(t, "MemorySanitizer: "))}`, frame: functionPlace },
  { prefix: "LeakSanitizer: ", type: () => "LEAK", frame: functionPlace },
  { prefix: "ThreadSanitizer: ", type: (t) => `TSAN-${slug(kindOf(t, "ThreadSanitizer: "))}`, frame: functionPlace },
  // Without a stack UBSan's title names the source file, which is no frame.
  { prefix: "UBSan: ", type: () => "UBSAN", frame: functionPlace },
  { prefix: "assertion failed: ", type: () => "ASSERT", frame: placeOf },
  // A shell's report ("fatal signal: SIGSEGV") and the runner's own for a killed process.
  { prefix: "fatal signal", type: () => "SIGNAL", frame: () => "" },
  { prefix: "panic: ", type: () => "PANIC", frame: placeOf },
  { prefix: "panicked: ", type: () => "PANIC", frame: functionPlace },
  // What the process runner calls a run past its timeout, and a non-zero exit read as a crash.
  { prefix: "reproducer hung", type: () => "HANG", frame: () => "" },
  { prefix: NO_OUTPUT_TITLE, type: () => "HANG", frame: () => "" },
  { prefix: "exit status ", type: () => "EXIT", frame: () => "" },
];

function programCrash(title: string): CrashIdentity | null {
  const form = programTitles.find((p) => title.startsWith(p.prefix));
  return form ? { title, alt: [], type: form.type(title), frame: form.frame(title) } : null;
}

/** As linux.ts names a kernel report: type and frame are functions of the title alone. */
function kernelCrash(title: string): CrashIdentity {
  return { title, alt: kernelAltTitles(title), type: kernelTypeOfTitle(title), frame: frameOfTitle(title) };
}

/**
 * The identity of a crash known only by its title: type, guilty frame and alternative titles, as
 * the report carrying that title would have them; an empty type when the title follows no known
 * form. In a kernel console the kernel's names come first ("panic: …" is a kernel panic) and only
 * titles the kernel's table does not type are read as a program's (sanitizers in a VM's programs);
 * in a program's output the program's come first ("panic: …" is a Go panic).
 */
export function crashOfTitle(title: string, console: CrashConsole): CrashIdentity {
  const named = title.trim();
  const kernel = kernelCrash(named);
  if (console === "kernel" && kernel.type !== "") return kernel;
  return programCrash(named) ?? kernel;
}
