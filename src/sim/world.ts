// A simulated world for one scenario: which commits carry the target and the other crashes,
// which do not build or boot, what each build's signature is, and what each run shows.

import { Dag } from "../core/dag.js";
import type { BuildOutcome, CrashSummary, RunOutcome } from "../core/outcome.js";
import type { BisectProblem, Release, RemedyRule } from "../core/strategy.js";
import { crashOfTitle, crashSimilarity, sameCrash } from "../report/index.js";
import { descendants, generateHistory, type History } from "./history.js";
import { hashSeed, generator, unitFor } from "./random.js";
import type { Scenario } from "./scenario.js";

export interface World {
  scenario: Scenario;
  history: History;
  dag: Dag;
  /** History index → Dag index, and back (the Dag orders commits its own way). */
  byHash: Map<string, number>;
  /** Target present at commit i (history order). */
  targetPresent: Uint8Array;
  otherPresent: Uint8Array[];
  buildBroken: Uint8Array;
  bootBroken: Uint8Array;
  signature: string[];
  start: number;
  /** Fix bisection: the newest commit, believed fixed. */
  end: number;
  /** The target as the start commit reports it: what the strategy is told (unless `namedTarget`). */
  targetCrash: CrashSummary;
  /** The target's report at each commit: index into `targetVariants` (0 = before any title change). */
  targetVariantAt: Uint16Array;
  targetVariants: CrashSummary[];
  /** Chance one run shows the target at each commit (where present and not masked). */
  targetChance: Float64Array;
  otherCrashes: CrashSummary[];
}

function inStretches(n: number, stretches: readonly { from: number; to: number }[]): Uint8Array {
  const marks = new Uint8Array(n);
  for (const s of stretches) for (let i = s.from; i <= s.to && i < n; i++) marks[i] = 1;
  return marks;
}

export function buildWorld(scenario: Scenario): World {
  const history = generateHistory(scenario.history, scenario.seed);
  const n = history.parents.length;
  const { parents } = history;
  let targetPresent: Uint8Array;
  if (scenario.startFlake) targetPresent = new Uint8Array(n);
  else if (scenario.culprit === null) targetPresent = new Uint8Array(n).fill(1);
  else {
    const desc = descendants(parents, scenario.culprit);
    targetPresent = scenario.kind === "cause" ? desc : desc.map((d) => 1 - d);
  }
  const otherPresent = scenario.otherCrashes.map((o) => {
    const present = descendants(parents, o.from);
    if (o.to !== null) {
      const fixed = descendants(parents, o.to);
      for (let i = 0; i < n; i++) if (fixed[i]) present[i] = 0;
    }
    return present;
  });
  // Later changes win on their descendants: listed order is history order.
  const targetVariantAt = new Uint16Array(n);
  scenario.target.titleChanges.forEach((change, k) => {
    const desc = descendants(parents, change.at);
    for (let i = 0; i < n; i++) if (desc[i]) targetVariantAt[i] = k + 1;
  });
  const targetChance = new Float64Array(n).fill(scenario.target.reproChance);
  for (const change of scenario.target.chanceChanges) {
    const desc = descendants(parents, change.at);
    for (let i = 0; i < n; i++) if (desc[i]) targetChance[i] = change.chance;
  }
  const buildBroken = inStretches(n, scenario.buildBroken);
  const bootBroken = inStretches(n, scenario.bootBroken);
  // A commit keeps its parent's binary unless it is a merge, changes behaviour, or the dice say so.
  const random = generator(hashSeed("signatures", scenario.seed));
  const behaviour = (i: number): string =>
    `${targetPresent[i]}${buildBroken[i]}${bootBroken[i]}${otherPresent.map((o) => o[i]).join("")}`;
  const signature: string[] = [];
  for (let i = 0; i < n; i++) {
    const ps = parents[i] as number[];
    const roll = random();
    const first = ps[0];
    const noOpCulprit = scenario.culpritSameSignature && i === scenario.culprit && first !== undefined;
    const keeps = noOpCulprit || (ps.length === 1 && first !== undefined && behaviour(i) === behaviour(first) && roll < scenario.sameSignatureFraction);
    signature.push(keeps ? (signature[first as number] as string) : `sig-${scenario.seed}-${i}`);
  }
  const dag = new Dag(history.hashes.map((hash, i) => ({ hash, parents: (parents[i] as number[]).map((p) => history.hashes[p] as string) })));
  const byHash = new Map(history.hashes.map((h, i) => [h, i]));
  const original = crashWithStack(scenario.target.title, crashType(scenario.target));
  const targetVariants = [original, ...scenario.target.titleChanges.map((c) => renamed(original, c.title))];
  const otherCrashes = scenario.otherCrashes.map((o) => crashWithStack(o.title, crashType(o)));
  const start = scenario.kind === "cause" ? n - 1 : 0;
  const targetCrash = targetVariants[targetVariantAt[start] as number] as CrashSummary;
  return {
    scenario, history, dag, byHash, targetPresent, otherPresent, buildBroken, bootBroken, signature, start, end: n - 1,
    targetCrash, targetVariantAt, targetVariants, targetChance, otherCrashes,
  };
}

/** The function a syzbot-style title names ("... in FUNCTION"), or "" when it names none. */
function titleFrame(title: string): string {
  const at = title.lastIndexOf(" in ");
  return at < 0 ? "" : title.slice(at + 4).trim();
}

/**
 * A report as report/ would give it: the guilty frame from the title, a stack of callers below it
 * that belong to this bug alone, and the guilty file. Two crashes of one type only look alike
 * (crashSimilarity) when they share a stack, as a renamed top frame does.
 */
function crashWithStack(title: string, type: string): CrashSummary {
  const frame = titleFrame(title);
  if (frame === "") return { title, alt: [], type, frame, frames: [], file: "" };
  const base = frame.replace(/^_+/, "");
  const subsystem = base.split("_")[0] as string;
  return { title, alt: [], type, frame, frames: [frame, `${base}_common`, `${base}_work`, `do_${base}`], file: `${subsystem}/${base}.c` };
}

/** The same bug under another title: the top frame changes, the type, the stack below it and the file stay. */
function renamed(crash: CrashSummary, title: string): CrashSummary {
  const frame = titleFrame(title);
  return { title, alt: [], type: crash.type, frame, frames: [frame, ...(crash.frames ?? []).slice(1)], file: crash.file ?? "" };
}

/** A crash without a type is its own class: remedies then tell crashes apart by title. */
function crashType(crash: { title: string; type: string }): string {
  return crash.type || crash.title;
}

/** Remedy rules as a builder would declare them: each removes the types of the crashes carrying it. */
export function remedyRules(scenario: Scenario): RemedyRule[] {
  const rules = new Map<string, Set<string>>();
  const add = (remedy: string | undefined, type: string): void => {
    if (!remedy) return;
    const set = rules.get(remedy) ?? new Set<string>();
    set.add(type);
    rules.set(remedy, set);
  };
  for (const o of scenario.otherCrashes) add(o.remedy, crashType(o));
  add(scenario.target.remedy, crashType(scenario.target));
  return [...rules.entries()].map(([name, types]) => ({ name, removesTypes: [...types].sort() }));
}

export function problemFor(world: World, parallelism: number): BisectProblem {
  const { scenario, history } = world;
  const vms = scenario.cost.vmsPerWorker;
  const runsPerCommit = scenario.cost.runsPerCommit ?? vms;
  const releases: Release[] =
    scenario.kind === "cause"
      ? [...history.releases].reverse().map((r) => ({ tag: r.tag, commit: history.hashes[r.index] as string }))
      : [];
  const problem: BisectProblem = {
    kind: scenario.kind,
    start: history.hashes[world.start] as string,
    releases,
    graph: world.dag,
    startRuns: 2 * runsPerCommit,
    runsPerCommit,
    runsAtOnce: vms,
    parallelism,
    // The production comparison, so the simulator judges crashes as a real bisection does.
    sameCrash,
    similarity: crashSimilarity,
    seed: scenario.seed,
    // `--crash TITLE` gives the strategy the title and what report/ reads from it, no stack.
    target: scenario.namedTarget ? crashOfTitle(world.targetCrash.title, "kernel") : world.targetCrash,
    remedies: remedyRules(scenario),
    // A batch of `runsPerCommit` runs takes one wave of the VMs after another.
    cost: { build: scenario.cost.buildMinutes, testBatch: scenario.cost.testMinutes * Math.ceil(runsPerCommit / vms) },
  };
  if (scenario.kind === "fix") problem.good = history.hashes[world.end] as string;
  return problem;
}

export function simulateBuild(world: World, index: number, remedies: readonly string[]): BuildOutcome {
  if (world.buildBroken[index]) return { kind: "failed", excerpt: "error: implicit declaration of function (simulated)" };
  const suffix = remedies.length > 0 ? `+${[...remedies].sort().join(",")}` : "";
  return { kind: "ok", signature: `${world.signature[index]}${suffix}` };
}

/**
 * Run number `run` of commit `index` built with `remedies`, part of the batch that starts at run
 * number `batch`: other crashes are drawn first and hide the target; a failed batch shows nothing.
 */
export function simulateRun(world: World, index: number, remedies: readonly string[], run: number, batch = run - (run % world.scenario.cost.vmsPerWorker)): RunOutcome {
  const { scenario } = world;
  const key = [...remedies].sort().join(",");
  if (unitFor(scenario.seed, "infra", index, key, run) < scenario.infraErrorRate) {
    return { kind: "infra", reason: "lost connection to test machine" };
  }
  if (world.bootBroken[index]) {
    return { kind: "boot-failed", crash: { title: "kernel panic: VFS: Unable to mount root fs", alt: [], type: "BOOT", frame: "", frames: [], file: "" } };
  }
  // A bad host or VM image: the whole batch runs without the reproducer firing, and says so nowhere.
  if (scenario.batchFailure > 0 && unitFor(scenario.seed, "batch", index, key, batch) < scenario.batchFailure) return { kind: "ok" };
  for (let k = 0; k < scenario.otherCrashes.length; k++) {
    const other = scenario.otherCrashes[k];
    if (!other || !world.otherPresent[k]?.[index]) continue;
    if (other.remedy && remedies.includes(other.remedy)) continue;
    if (unitFor(scenario.seed, "other", k, index, key, run) < other.chance) {
      return { kind: "crash", crash: world.otherCrashes[k] as CrashSummary };
    }
  }
  if (scenario.startFlake && index === world.start && run === 0) return { kind: "crash", crash: world.targetCrash };
  const hidden = scenario.target.remedy !== undefined && remedies.includes(scenario.target.remedy);
  if (world.targetPresent[index] && !hidden && unitFor(scenario.seed, "target", index, key, run) < (world.targetChance[index] as number)) {
    return { kind: "crash", crash: world.targetVariants[world.targetVariantAt[index] as number] as CrashSummary };
  }
  return { kind: "ok" };
}
