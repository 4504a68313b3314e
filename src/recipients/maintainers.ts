// The kernel's MAINTAINERS format → who to tell about a commit. Follows get_maintainer.pl's
// matching rules (F:/X: patterns, N: path regexes, K: content regexes) so a tree's own file gives
// the same people the kernel's script would, without needing perl or the script in the tree.

import { UserError } from "../core/errors.js";
import { spawnGroup } from "../run/exec.js";

export interface Person {
  /** "Jens Axboe <axboe@kernel.dk>" as written. */
  raw: string;
  email: string;
}

export interface MaintainersSection {
  /** The title line, e.g. "BLOCK LAYER". */
  name: string;
  /** S: as written ("Maintained", "Supported", "Odd Fixes", ...); "" when absent. */
  status: string;
  maintainers: Person[];
  reviewers: Person[];
  /** Mailing lists; subscribers-only lists are dropped like get_maintainer.pl does by default. */
  lists: Person[];
  files: string[];
  excludes: string[];
  namePatterns: RegExp[];
  keywords: RegExp[];
}

export interface Maintainers {
  sections: MaintainersSection[];
}

export interface Recipients {
  to: string[];
  cc: string[];
  /** Names of the sections that matched, most specific first (for the log). */
  sections: string[];
}

export const LKML = "linux-kernel@vger.kernel.org";

const ENTRY = /^([A-Z]):\s*(.*?)\s*$/;

export function parseMaintainers(text: string): Maintainers {
  const sections: MaintainersSection[] = [];
  let current: MaintainersSection | undefined;
  let title = "";
  for (const line of text.split("\n")) {
    const entry = ENTRY.exec(line);
    if (!entry) {
      // A blank or free-text line ends the section; the last free-text line before entries is its title.
      current = undefined;
      if (line.trim() !== "") title = line.trim();
      continue;
    }
    if (!current) {
      current = emptySection(title);
      sections.push(current);
    }
    addEntry(current, entry[1] as string, entry[2] as string);
  }
  return { sections };
}

function emptySection(name: string): MaintainersSection {
  return {
    name,
    status: "",
    maintainers: [],
    reviewers: [],
    lists: [],
    files: [],
    excludes: [],
    namePatterns: [],
    keywords: [],
  };
}

function addEntry(section: MaintainersSection, type: string, value: string): void {
  if (value === "") return;
  switch (type) {
    case "M":
      pushPerson(section.maintainers, value);
      break;
    case "R":
      pushPerson(section.reviewers, value);
      break;
    case "L":
      if (!/subscribers-only/i.test(value)) pushPerson(section.lists, value);
      break;
    case "S":
      section.status = value;
      break;
    case "F":
      section.files.push(value);
      break;
    case "X":
      section.excludes.push(value);
      break;
    case "N": {
      const re = perlExtendedRegex(value);
      if (re) section.namePatterns.push(re);
      break;
    }
    case "K": {
      const re = perlExtendedRegex(value);
      if (re) section.keywords.push(re);
      break;
    }
    // W:, T:, Q:, B:, C:, P: carry no recipients.
  }
}

function pushPerson(into: Person[], raw: string): void {
  const email = emailOf(raw);
  if (email) into.push({ raw, email });
}

/** The address in "Name <a@b>", "a@b (moderated for non-subscribers)" or "a@b". */
export function emailOf(raw: string): string | undefined {
  const angled = /<([^<>\s]+@[^<>\s]+)>/.exec(raw);
  if (angled) return angled[1];
  const bare = /([^\s<>()"]+@[^\s<>()"]+)/.exec(raw);
  return bare?.[1];
}

/** "Jens Axboe" from "Jens Axboe <axboe@kernel.dk>", lower-cased; "" for a bare address. */
function personName(p: Person): string {
  const at = p.raw.indexOf("<");
  return at <= 0 ? "" : p.raw.slice(0, at).trim().replace(/^"|"$/g, "").toLowerCase();
}

/** get_maintainer.pl matches N:/K: with Perl's /x: unescaped whitespace outside [...] is ignored. */
function perlExtendedRegex(source: string): RegExp | undefined {
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    if (c === "\\") {
      out += c + (source[i + 1] ?? "");
      i++;
      continue;
    }
    if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    if (!inClass && /\s/.test(c)) continue;
    out += c;
  }
  // Perl's inline case-insensitivity ("(?i)…", "(?i:…)") has no JavaScript form: apply it to the whole pattern.
  const caseless = /\(\?i[:)]/.test(out);
  out = out.replace(/\(\?i\)/g, "").replace(/\(\?i:/g, "(?:");
  try {
    return new RegExp(out, caseless ? "i" : "");
  } catch {
    // A pattern JavaScript cannot read only loses that one pattern, not the whole file.
    return undefined;
  }
}

function globToRegex(glob: string): string {
  let out = "";
  for (const c of glob) {
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return out;
}

/**
 * get_maintainer.pl's rule: a pattern ending in "/" covers everything below it; any other pattern
 * covers files at its own depth ("drivers/net/*" is not recursive). A glob-free pattern naming a
 * directory in the tree counts as ending in "/"; a file below it proves it is one.
 */
export function patternMatches(pattern: string, file: string): boolean {
  if (pattern.endsWith("/")) return new RegExp(`^${globToRegex(pattern)}`).test(file);
  if (new RegExp(`^${globToRegex(pattern)}$`).test(file)) return true;
  return !/[*?]/.test(pattern) && file.startsWith(`${pattern}/`);
}

/** How specific a matching F: pattern is: more path components rank first, "*"-led last. */
function patternDepth(pattern: string): number {
  if (pattern.startsWith("*")) return -1;
  const slashes = pattern.split("/").length - 1;
  return pattern.endsWith("/") ? slashes : slashes + 1;
}

export type ReadFile = (path: string) => string | undefined;

/** How well a section matches one file: its best pattern depth, or undefined for no match. */
function sectionMatch(
  section: MaintainersSection,
  file: string,
  content: () => string | undefined,
  patch: string | undefined,
): number | undefined {
  if (section.excludes.some((x) => patternMatches(x, file))) return undefined;
  let best: number | undefined;
  for (const f of section.files) {
    if (!patternMatches(f, file)) continue;
    const depth = patternDepth(f);
    best = best === undefined ? depth : Math.max(best, depth);
  }
  if (best === undefined && section.namePatterns.some((re) => re.test(file))) best = 0;
  if (best === undefined && section.keywords.length > 0) {
    const texts = [patch, content()].filter((t): t is string => t !== undefined);
    if (section.keywords.some((re) => texts.some((t) => re.test(t)))) best = 0;
  }
  return best;
}

/** Statuses whose M: people are the ones expected to act (get_maintainer.pl: maintainer/supporter). */
function maintainersActOn(status: string): boolean {
  const s = status.toLowerCase();
  return s === "" || s.startsWith("maintained") || s.startsWith("supported");
}

/**
 * Recipients for a change touching `files` (add the crash's guilty file to the list): maintainers
 * of maintained/supported sections and mailing lists go to To, reviewers and the rest to Cc.
 * LKML is only Cc'd when a subsystem list applies. K: patterns are tried against `patch`
 * (e.g. the culprit's diff) and each file's content when `readFile` is given.
 */
export function recipientsFor(
  maintainers: Maintainers,
  files: readonly string[],
  readFile?: ReadFile,
  options: { patch?: string } = {},
): Recipients {
  const matched = new Map<MaintainersSection, number>();
  for (const file of new Set(files.filter((f) => f !== ""))) {
    let cached: string | undefined | null = null;
    const content = (): string | undefined => {
      if (cached === null) cached = readFile?.(file);
      return cached;
    };
    for (const section of maintainers.sections) {
      const depth = sectionMatch(section, file, content, options.patch);
      if (depth !== undefined) matched.set(section, Math.max(depth, matched.get(section) ?? depth));
    }
  }
  const ordered = [...matched.entries()].sort((a, b) => b[1] - a[1]).map(([s]) => s);

  const to: string[] = [];
  const cc: string[] = [];
  // One address per person, like get_maintainer.pl: the most specific section's address wins.
  const named = new Set<string>();
  const person = (p: Person, into: string[]): void => {
    const name = personName(p);
    if (name !== "" && named.has(name) && !into.includes(p.email)) return;
    if (name !== "") named.add(name);
    into.push(p.email);
  };
  for (const section of ordered) {
    // get_maintainer.pl leaves out THE REST's "chief penguin" unless asked; so do we.
    if (!/^buried/i.test(section.status)) {
      for (const p of section.maintainers) person(p, maintainersActOn(section.status) ? to : cc);
    }
    for (const p of section.reviewers) person(p, cc);
    for (const l of section.lists) to.push(l.email);
  }
  const isLkml = (e: string): boolean => e.toLowerCase() === LKML;
  const subsystemList = ordered.some((s) => s.lists.some((l) => !isLkml(l.email)));
  if (subsystemList && to.some(isLkml)) {
    // Several sections may list LKML; every copy moves.
    return finish(to.filter((e) => !isLkml(e)), [...cc, LKML], ordered.map((s) => s.name));
  }
  return finish(to, cc, ordered.map((s) => s.name));
}

/** Dedupes case-insensitively, sorts, and keeps an address only in To when it is in both. */
function finish(to: string[], cc: string[], sections: string[]): Recipients {
  const uniq = (xs: string[]): string[] => {
    const seen = new Map<string, string>();
    for (const x of xs) if (!seen.has(x.toLowerCase())) seen.set(x.toLowerCase(), x);
    return [...seen.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  };
  const toList = uniq(to);
  const inTo = new Set(toList.map((e) => e.toLowerCase()));
  // LKML is demoted from To on purpose; drop it from To wherever it is duplicated.
  return { to: toList, cc: uniq(cc).filter((e) => !inTo.has(e.toLowerCase())), sections };
}

/**
 * Reads get_maintainer.pl's default output ("Name <a@b> (maintainer:SECTION)",
 * "list@x (open list:SECTION)") with the same To/Cc rule as recipientsFor.
 */
export function parseGetMaintainerOutput(text: string): Recipients {
  const to: string[] = [];
  const cc: string[] = [];
  const lists: string[] = [];
  const sections = new Set<string>();
  for (const line of text.split("\n")) {
    // The role follows the address in parentheses and may hold parentheses itself:
    // "(supporter:KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86))".
    const m = /^(.*?(?:<[^<>]+>|[^\s<>()"]+@[^\s<>()"]+))\s*(?:\((.*)\))?\s*$/.exec(line.trim());
    if (!m) continue;
    const email = emailOf(m[1] as string);
    const role = m[2] ?? "";
    if (!email) continue;
    const section = /:(.+)$/.exec(role)?.[1];
    if (section) sections.add(section.trim());
    if (/\blist\b/.test(role)) lists.push(email);
    else if (/maintainer|supporter/.test(role)) to.push(email);
    else cc.push(email);
  }
  const subsystemList = lists.some((e) => e.toLowerCase() !== LKML);
  for (const l of lists) (subsystemList && l.toLowerCase() === LKML ? cc : to).push(l);
  return finish(to, cc, [...sections]);
}

export type MaintainersSource = "file" | "script";

/** Runs the tree's scripts/get_maintainer.pl on `files` (no git history lookups: we have the culprit). */
export function recipientsFromScript(
  tree: string,
  files: readonly string[],
  signal?: AbortSignal,
): Promise<Recipients> {
  const argv = [
    "scripts/get_maintainer.pl",
    "--no-git",
    "--no-git-fallback",
    "--rolestats",
    "-f",
    // A file named like an option ("--git") is still a file.
    "--",
    ...files.filter((f) => f !== ""),
  ];
  return new Promise((resolve, reject) => {
    // Its own process group, killed whole on timeout or abort (house rule for every child).
    const { child, stop } = spawnGroup(["perl", ...argv], { cwd: tree, output: "pipe" });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(stop, 120_000);
    signal?.addEventListener("abort", stop, { once: true });
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", stop);
      if (code === 0) resolve(parseGetMaintainerOutput(stdout));
      else reject(new Error(`get_maintainer.pl failed (${code ?? "killed"}): ${stderr.split("\n")[0] ?? ""}`));
    });
  });
}

/** What the lookup needs from a repository (culprit's git Repo has both). */
export interface MaintainersTree {
  dir: string;
  fileAt(commit: string, path: string): Promise<string | undefined>;
}

export type MaintainersLookup = (
  repo: MaintainersTree,
  commit: string,
  files: string[],
  guiltyFile: string,
  /** A checkout of `commit` (made on demand): get_maintainer.pl runs from the culprit's own tree. */
  checkout: () => Promise<string>,
) => Promise<{ to: string[]; cc: string[] }>;

/**
 * The orchestrator's recipients hook. "file": the MAINTAINERS file as of `commit` (none → nobody);
 * "script": scripts/get_maintainer.pl of a checkout of `commit`, run there (MAINTAINERS as of the culprit).
 */
export function maintainersLookup(source: MaintainersSource = "file"): MaintainersLookup {
  return async (repo, commit, files, guiltyFile, checkout) => {
    const all = [...new Set([...files, guiltyFile].filter((f) => f !== ""))];
    if (source === "script") {
      if ((await repo.fileAt(commit, "scripts/get_maintainer.pl")) === undefined) {
        throw new UserError(`no scripts/get_maintainer.pl in ${repo.dir} at ${commit}`, "use --maintainers=file, or a kernel tree");
      }
      const { to, cc } = await recipientsFromScript(await checkout(), all);
      return { to, cc };
    }
    const text = await repo.fileAt(commit, "MAINTAINERS");
    if (text === undefined) return { to: [], cc: [] };
    // K: patterns look at file contents, read at the same commit.
    const contents = new Map<string, string | undefined>();
    for (const f of all) contents.set(f, await repo.fileAt(commit, f));
    const { to, cc } = recipientsFor(parseMaintainers(text), all, (p) => contents.get(p));
    return { to, cc };
  };
}
