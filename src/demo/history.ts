// Generated git histories of a small C program with planted crashes: the demo's repository,
// and the tests' (each test describes the history it needs). Written with `git fast-import`,
// so a few hundred commits take well under a second.

import { spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { git } from "../git/git.js";

export interface HistorySpec {
  /** Commits on the main line (merge commits included). */
  mainCommits: number;
  /** Main-line index where the target crash appears; "always" = before the first commit. */
  culprit: number | "always" | "never";
  /** Main-line index where the target disappears again (for fix bisection). */
  fixAt?: number;
  /** Percent of runs in which the target fires where it is present. */
  targetPercent: number;
  /** An unrelated crash on main-line indices [from, to). */
  other?: { from: number; to: number; percent: number };
  /** Main-line indices [from, to) that do not compile. */
  buildBroken?: { from: number; to: number };
  /** Main-line index → release tag. */
  releases: Record<number, string>;
  /** Every n-th main-line commit only rewords a comment (same build signature). */
  commentOnlyEvery: number;
  /** Side branches merged at the given main-line index; `culpritAt` plants the target on the branch. */
  sideBranches: { mergeAt: number; length: number; culpritAt?: number }[];
  /** The merge at this main-line index itself introduces the target (an "evil merge"). */
  culpritIsMergeAt?: number;
  /** urandom: real flakiness (the demo). run-index: the roll comes from CULPRIT_RUN, so every
   *  commit sees the same sequence of rolls and a test's outcome is fixed. */
  randomness: "urandom" | "run-index";
  /** Build with AddressSanitizer: the target is a real heap-use-after-free report. */
  sanitize: boolean;
  /** Main-line index of the commit that adds the feature the reproducer uses: before it, the
   *  program rejects its input and exits 1 (a reproducer that cannot run on older commits). */
  featureAt?: number;
}

/** What a commit's source contains; files are generated from it. */
interface SourceState {
  level: number;
  note: number;
  target: boolean;
  other: boolean;
  broken: boolean;
  docs: number;
  /** The program knows the reproducer's feature. */
  feature: boolean;
}

export interface GeneratedHistory {
  dir: string;
  /** Main-line commit hashes, oldest first. */
  main: string[];
  /** The commit that introduced the target (cause), if any. */
  culprit?: string;
  /** The commit that removed it (fix), if any. */
  fix?: string;
  /** Commits of the build-broken stretch. */
  broken: string[];
  head: string;
}

const AUTHORS = [
  ["Ada Lovelace", "ada@example.org"],
  ["Grace Hopper", "grace@example.org"],
  ["Linus Torvalds", "torvalds@example.org"],
  ["Barbara Liskov", "barbara@example.org"],
] as const;

export function makefile(sanitize: boolean): string {
  const flags = sanitize ? "-O1 -g -fsanitize=address -fno-omit-frame-pointer" : "-O1 -g";
  return `CC ?= gcc\nCFLAGS = ${flags}\n\ndemo: src/main.c src/records.c src/records.h\n\t$(CC) $(CFLAGS) -o demo src/main.c src/records.c\n`;
}

function mainC(state: SourceState, randomness: HistorySpec["randomness"]): string {
  const feature = state.feature ? "" : `  fprintf(stderr, "demo: input:1: unknown attribute 'const'\\n");\n  return 1;\n`;
  const seed =
    randomness === "urandom"
      ? `  FILE *f = fopen("/dev/urandom", "rb");\n  if (f) { if (fread(&seed, sizeof seed, 1, f) != 1) seed = 1; fclose(f); }`
      : `  const char *run = getenv("CULPRIT_RUN");\n  seed = 2654435761u * (unsigned)(run ? atoi(run) + 1 : 1);`;
  return `#include <stdio.h>
#include <stdlib.h>
#include "records.h"

/* demo program: note ${state.note} */
static const int feature_level = ${state.level};

/* murmur3's finaliser over a Weyl sequence: successive rolls are independent. */
static unsigned next_roll(unsigned *state) {
  unsigned x = (*state += 0x9e3779b9u);
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  x *= 0xc2b2ae35u;
  x ^= x >> 16;
  return x % 100u;
}

int main(void) {
${feature}  unsigned seed = 1;
${seed}
  unsigned target_roll = next_roll(&seed);
  unsigned other_roll = next_roll(&seed);
  int total = process_records(feature_level, target_roll, other_roll);
  printf("processed %d records\\n", total);
  return 0;
}
`;
}

function recordsC(state: SourceState, spec: HistorySpec): string {
  const target = state.target
    ? spec.sanitize
      ? `  if (target_roll < ${spec.targetPercent}u) total += release_record(rec);\n`
      : `  if (target_roll < ${spec.targetPercent}u) total += release_record(0);\n`
    : "";
  const other = state.other ? `  if (other_roll < ${spec.other?.percent ?? 0}u) check_header(level);\n` : "";
  const broken = state.broken ? "  int unfinished = ;\n" : "";
  return `#include <assert.h>
#include <stdlib.h>
#include "records.h"

struct record {
  int len;
  int flags;
};

__attribute__((noinline)) static int release_record(struct record *rec) {
  return rec->len + rec->flags;
}

__attribute__((noinline)) static void check_header(int level) {
  assert(level < 0 && "header checksum mismatch");
}

int process_records(int level, unsigned target_roll, unsigned other_roll) {
  struct record *rec = malloc(sizeof *rec);
  rec->len = level;
  rec->flags = 1;
  int total = rec->len;
${broken}${other}  free(rec);
${target}  (void)release_record;
  (void)check_header;
  (void)target_roll;
  (void)other_roll;
  return total;
}
`;
}

const RECORDS_H = "int process_records(int level, unsigned target_roll, unsigned other_roll);\n";

const MAINTAINERS = `RECORDS LIBRARY
M:\tAda Lovelace <ada@example.org>
R:\tGrace Hopper <grace@example.org>
L:\trecords-dev@lists.example.org
S:\tMaintained
F:\tsrc/records.*

DEMO PROGRAM
M:\tLinus Torvalds <torvalds@example.org>
S:\tMaintained
F:\tsrc/main.c
F:\tMakefile
`;

interface PlannedCommit {
  mark: number;
  parents: number[];
  message: string;
  author: readonly [string, string];
  state: SourceState;
  /** Files that differ from the first parent. */
  files: Record<string, string>;
  mainIndex?: number;
}

function filesOf(state: SourceState, spec: HistorySpec): Record<string, string> {
  const files: Record<string, string> = {
    Makefile: makefile(spec.sanitize),
    MAINTAINERS,
    "src/main.c": mainC(state, spec.randomness),
    "src/records.c": recordsC(state, spec),
    "src/records.h": RECORDS_H,
  };
  for (let d = 1; d <= state.docs; d++) files[`docs/note-${d}.txt`] = `Design note ${d}.\n`;
  return files;
}

function changed(before: Record<string, string>, after: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, text] of Object.entries(after)) if (before[path] !== text) out[path] = text;
  return out;
}

/** Plans every commit: pure, so a test can reason about the history without git. */
function plan(spec: HistorySpec): PlannedCommit[] {
  const commits: PlannedCommit[] = [];
  let mark = 0;
  let mainTip: PlannedCommit | undefined;
  const present = (i: number): boolean => {
    if (spec.culpritIsMergeAt !== undefined) return i >= spec.culpritIsMergeAt;
    const appeared = spec.culprit === "always" || (typeof spec.culprit === "number" && i >= spec.culprit);
    return appeared && (spec.fixAt === undefined || i < spec.fixAt);
  };
  // A target merged in from a side branch stays, whatever the main line planned.
  let merged = false;
  const stateAt = (i: number, base: SourceState): SourceState => ({
    ...base,
    target: present(i) || merged,
    other: spec.other !== undefined && i >= spec.other.from && i < spec.other.to,
    broken: spec.buildBroken !== undefined && i >= spec.buildBroken.from && i < spec.buildBroken.to,
    feature: spec.featureAt === undefined || i >= spec.featureAt,
  });
  let state: SourceState = { level: 1, note: 0, target: false, other: false, broken: false, docs: 0, feature: spec.featureAt === undefined };
  for (let i = 0; i < spec.mainCommits; i++) {
    const author = AUTHORS[i % AUTHORS.length] as readonly [string, string];
    const side = spec.sideBranches.find((b) => b.mergeAt === i);
    let next = stateAt(i, state);
    let message: string;
    if (i === 0) {
      message = "Initial import of the records demo";
    } else if (side) {
      // A merge brings in its branch and nothing else (unless it is the planted evil merge).
      message = "Merge";
    } else if (next.feature !== state.feature) {
      message = next.target && !present(i - 1) ? "main: read constant attributes (and release records early)" : "main: read constant attributes";
    } else if (next.target && !present(i - 1)) {
      message =
        "records: release records before summing to save memory\n\n" +
        "The record is not needed once its length is known, so free it early.\n\n" +
        `Signed-off-by: ${author[0]} <${author[1]}>\nReviewed-by: Barbara Liskov <Barbara@Example.org>\nSigned-off-by: Ada Lovelace <ada@example.org>`;
    } else if (!next.target && present(i - 1)) {
      message = `records: keep records alive until summed\n\nFixes a heap-use-after-free.\n\nSigned-off-by: ${author[0]} <${author[1]}>`;
    } else if (next.broken !== state.broken) {
      message = next.broken ? "records: start reworking header checks" : "records: finish reworking header checks";
    } else if (next.other !== state.other) {
      message = next.other ? "records: verify header checksums" : "records: relax header checksum verification";
    } else if (spec.commentOnlyEvery > 0 && i % spec.commentOnlyEvery === 0) {
      next = { ...next, note: next.note + 1 };
      message = `main: reword comment (${next.note})`;
    } else {
      next = { ...next, level: next.level + 1 };
      message = `main: raise feature level to ${next.level}`;
    }
    const parents: number[] = mainTip ? [mainTip.mark] : [];
    if (side && mainTip) {
      // The branch forks from the current tip, adds notes (and maybe the target), and is merged here.
      let branchTip = mainTip;
      let branchState = mainTip.state;
      for (let k = 0; k < side.length; k++) {
        const plants = side.culpritAt === k;
        const s: SourceState = { ...branchState, docs: branchState.docs + 1, target: branchState.target || plants };
        const c: PlannedCommit = {
          mark: ++mark,
          parents: [branchTip.mark],
          message: plants
            ? "records: release records before summing to save memory\n\nSigned-off-by: Grace Hopper <grace@example.org>"
            : `docs: add design note ${s.docs}`,
          author: AUTHORS[(i + k + 1) % AUTHORS.length] as readonly [string, string],
          state: s,
          files: changed(filesOf(branchState, spec), filesOf(s, spec)),
        };
        commits.push(c);
        branchTip = c;
        branchState = s;
      }
      parents.push(branchTip.mark);
      merged = merged || branchState.target;
      next = { ...next, docs: branchState.docs, target: next.target || branchState.target };
      message = `Merge branch 'notes-${i}'${spec.culpritIsMergeAt === i ? "\n\nResolve the conflict by releasing records early." : ""}`;
    }
    const before = mainTip ? filesOf(mainTip.state, spec) : {};
    const c: PlannedCommit = { mark: ++mark, parents, message, author, state: next, files: changed(before, filesOf(next, spec)), mainIndex: i };
    commits.push(c);
    mainTip = c;
    state = next;
  }
  return commits;
}

function data(text: string): string {
  return `data ${Buffer.byteLength(text)}\n${text}\n`;
}

/** The fast-import stream for a plan; dates are fixed so hashes are the same on every machine. */
function stream(commits: readonly PlannedCommit[], spec: HistorySpec): string {
  const out: string[] = [];
  const epoch = 1_600_000_000;
  commits.forEach((c, n) => {
    const when = `${epoch + n * 3600} +0000`;
    out.push(`commit refs/heads/main\nmark :${c.mark}\n`);
    out.push(`author ${c.author[0]} <${c.author[1]}> ${when}\ncommitter ${c.author[0]} <${c.author[1]}> ${when}\n`);
    out.push(data(c.message + "\n"));
    // fast-import continues from the branch's last commit unless told otherwise.
    if (c.parents[0] !== undefined) out.push(`from :${c.parents[0]}\n`);
    for (const p of c.parents.slice(1)) out.push(`merge :${p}\n`);
    for (const [path, text] of Object.entries(c.files)) out.push(`M 100644 inline ${path}\n${data(text)}`);
    out.push("\n");
  });
  for (const c of commits) {
    const tag = c.mainIndex !== undefined ? spec.releases[c.mainIndex] : undefined;
    if (tag) out.push(`reset refs/tags/${tag}\nfrom :${c.mark}\n\n`);
  }
  return out.join("");
}

export async function generateHistory(dir: string, spec: HistorySpec): Promise<GeneratedHistory> {
  await mkdir(dir, { recursive: true });
  await git(dir, ["init", "-q", "-b", "main", dir]);
  const commits = plan(spec);
  await new Promise<void>((resolve, reject) => {
    const child = spawn("git", ["fast-import", "--quiet", "--done"], { cwd: dir, stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`git fast-import failed: ${stderr}`))));
    child.stdin.end(stream(commits, spec) + "done\n");
  });
  await git(dir, ["checkout", "-q", "-f", "main"]);
  const marks = (await git(dir, ["rev-list", "--reverse", "--topo-order", "main"])).stdout.split("\n").filter(Boolean);
  const hashOf = await markHashes(dir, commits.length);
  const main = commits.filter((c) => c.mainIndex !== undefined).map((c) => hashOf(c.mark));
  const targetOf = new Map(commits.map((c) => [c.mark, c.state.target]));
  const culpritPlan = commits.find((c) => c.state.target && c.parents.length > 0 && c.parents.every((p) => !targetOf.get(p)));
  const fixPlan = commits.find((c) => !c.state.target && c.parents.some((p) => targetOf.get(p)));
  const brokenHashes = commits.filter((c) => c.state.broken).map((c) => hashOf(c.mark));
  return {
    dir,
    main,
    ...(culpritPlan ? { culprit: hashOf(culpritPlan.mark) } : {}),
    ...(fixPlan ? { fix: hashOf(fixPlan.mark) } : {}),
    broken: brokenHashes,
    head: marks.at(-1) as string,
  };
}

/** Hashes of marks 1..n, in the order fast-import created them (parents before children, by plan). */
async function markHashes(dir: string, n: number): Promise<(mark: number) => string> {
  // Commit timestamps were assigned in mark order, one hour apart: sorting by date recovers marks.
  const out = await git(dir, ["log", "--all", "--format=%H %ct"]);
  const byTime = out.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ") as [string, string])
    .sort((a, b) => Number(a[1]) - Number(b[1]));
  if (byTime.length !== n) throw new Error(`expected ${n} commits, found ${byTime.length}`);
  return (mark) => (byTime[mark - 1] as [string, string])[0];
}
