// The built-in scenario suite: families of synthetic worlds drawn with seeds, covering what
// breaks bisections in practice (flaky reproducers, masking crashes, broken stretches,
// unchanged binaries, merges, fix bisections, bugs older than the range, flaky start crashes).

import { descendants, generateHistory, oldBaseRoots, type History } from "./history.js";
import { generator, hashSeed, intBetween } from "./random.js";
import { scenarioSchema, type Scenario, type ScenarioInput } from "./scenario.js";

type Random = () => number;

const TARGETS = [
  { title: "general protection fault in blk_mq_run_hw_queues", type: "DoS" },
  { title: "KASAN: use-after-free Read in tcp_retransmit_timer", type: "KASAN-UAF" },
  { title: "WARNING in ext4_da_update_reserve_space", type: "WARNING" },
  { title: "BUG: unable to handle kernel NULL pointer dereference in nfc_llcp_sock_bind", type: "DoS" },
];

function between(random: Random, lo: number, hi: number): number {
  return lo + random() * (hi - lo);
}

/** Range sizes from 50 to 15,000 commits, spread evenly on a log scale. */
function rangeSize(random: Random): number {
  return Math.round(Math.exp(between(random, Math.log(50), Math.log(15000))));
}

function historySpec(random: Random, commits: number): ScenarioInput["history"] {
  return {
    commits,
    mergeEvery: intBetween(random, 8, 60),
    sideBranchLength: intBetween(random, 2, 20),
    releaseEvery: Math.max(10, Math.round(commits / intBetween(random, 3, 16))),
  };
}

interface Draft {
  input: ScenarioInput;
  history: History;
  random: Random;
}

function draft(family: string, n: number, seed: number): Draft {
  const random = generator(hashSeed("suite", family, seed));
  const commits = rangeSize(random);
  const history = historySpec(random, commits);
  const target = TARGETS[intBetween(random, 0, TARGETS.length - 1)] as { title: string; type: string };
  const culprit = intBetween(random, 1, commits - 1);
  const input: ScenarioInput = {
    name: `${family}-${n}`,
    family,
    kind: "cause",
    seed,
    history,
    culprit,
    target: { ...target, reproChance: Number(between(random, 0.5, 1).toFixed(2)) },
    sameSignatureFraction: Number(between(random, 0, 0.3).toFixed(2)),
    cost: { buildMinutes: 7, testMinutes: 8.5, vmsPerWorker: 10 },
  };
  return { input, history: generateHistory(history as Scenario["history"], seed), random };
}

function stretchAround(random: Random, at: number, commits: number): { from: number; to: number } {
  const length = intBetween(random, 1, 40);
  const from = Math.max(1, Math.min(commits - 2, at - intBetween(random, 0, length - 1)));
  return { from, to: Math.min(commits - 2, from + length - 1) };
}

function stretchAnywhere(random: Random, commits: number): { from: number; to: number } {
  return stretchAround(random, intBetween(random, 1, commits - 2), commits);
}

const SPORADIC = [
  { title: "INFO: task hung in genl_rcv_msg", type: "HANG", remedy: "disable:HUNG_TASK" },
  { title: "WARNING in __alloc_pages", type: "WARNING" },
];

type Family = (d: Draft) => void;

function pick<T>(random: Random, list: readonly T[]): T | undefined {
  return list.length === 0 ? undefined : list[intBetween(random, 0, list.length - 1)];
}

/** Moves the culprit into the older 80% of the range, so that history after it has room to change. */
function culpritWithRoom(d: Draft): number {
  const n = d.input.history.commits;
  const culprit = intBetween(d.random, 1, Math.max(1, Math.floor(0.8 * n)));
  d.input.culprit = culprit;
  return culprit;
}

/** A mainline commit after `from` and descending from it (the start excluded), where the bug's reports may change. */
function laterOnMainline(d: Draft, from: number): number | undefined {
  const desc = descendants(d.history.parents, from);
  const n = d.history.parents.length;
  const later: number[] = [];
  for (let i = from + 1; i < n - 1; i++) if (desc[i] && d.history.mainline[i]) later.push(i);
  return pick(d.random, later);
}

/** How real titles drift: the guilty function is split, made a locked variant, or renamed (`foo_release` → `foo_put`). */
function driftedTitle(random: Random, title: string): string {
  const at = title.lastIndexOf(" in ");
  const frame = title.slice(at + 4);
  const renames = [`__${frame}`, `${frame}_locked`, frame.replace(/_[a-z0-9]+$/, "_put")];
  const candidates = renames.filter((r) => r !== frame);
  return `${title.slice(0, at)} in ${pick(random, candidates) ?? `${frame}_locked`}`;
}

const LOCKDEP_TARGET = { title: "possible deadlock in ext4_xattr_set_handle", type: "LOCKDEP", remedy: "disable:LOCKDEP" };

function lockdepMask(d: Draft, chanceLo: number, chanceHi: number): NonNullable<ScenarioInput["otherCrashes"]>[number] {
  const n = d.input.history.commits;
  const culprit = d.input.culprit as number;
  return {
    title: "possible deadlock in del_gendisk",
    type: "LOCKDEP",
    from: intBetween(d.random, 1, Math.max(1, Math.min(n - 1, culprit + Math.round(n / 10)))),
    to: null,
    chance: Number(between(d.random, chanceLo, chanceHi).toFixed(2)),
    remedy: "disable:LOCKDEP",
  };
}

export const FAMILIES: Record<string, { count: number; shape: Family }> = {
  clean: { count: 30, shape: (d) => void (d.input.target.reproChance = Number(between(d.random, 0.8, 1).toFixed(2))) },
  flaky: { count: 50, shape: (d) => void (d.input.target.reproChance = Number(between(d.random, 0.05, 0.9).toFixed(2))) },
  "masking-remedy": {
    count: 25,
    shape: (d) => {
      const n = d.input.history.commits;
      const culprit = d.input.culprit as number;
      d.input.otherCrashes = [
        {
          title: "possible deadlock in del_gendisk",
          type: "LOCKDEP",
          from: intBetween(d.random, 1, Math.max(1, Math.min(n - 1, culprit + Math.round(n / 10)))),
          to: null,
          chance: Number(between(d.random, 0.5, 0.98).toFixed(2)),
          remedy: "disable:LOCKDEP",
        },
      ];
    },
  },
  "masking-no-remedy": {
    count: 20,
    shape: (d) => {
      const n = d.input.history.commits;
      d.input.otherCrashes = [
        {
          title: "KASAN: slab-out-of-bounds Read in hci_event_packet",
          type: "KASAN-OOB",
          from: intBetween(d.random, 1, n - 1),
          to: null,
          chance: Number(between(d.random, 0.3, 0.8).toFixed(2)),
        },
      ];
    },
  },
  sporadic: {
    count: 30,
    shape: (d) => {
      d.input.otherCrashes = SPORADIC.slice(0, intBetween(d.random, 1, 2)).map((s) => ({ ...s, from: 0, to: null, chance: Number(between(d.random, 0.02, 0.12).toFixed(2)) }));
      d.input.infraErrorRate = Number(between(d.random, 0.01, 0.08).toFixed(3));
    },
  },
  "build-broken": {
    count: 25,
    shape: (d) => {
      const n = d.input.history.commits;
      const stretches = [stretchAnywhere(d.random, n)];
      if (d.random() < 0.5) stretches.push(stretchAround(d.random, d.input.culprit as number, n));
      d.input.buildBroken = stretches;
    },
  },
  "boot-broken": {
    count: 20,
    shape: (d) => {
      const n = d.input.history.commits;
      const stretches = [stretchAnywhere(d.random, n)];
      if (d.random() < 0.5) stretches.push(stretchAround(d.random, d.input.culprit as number, n));
      d.input.bootBroken = stretches;
    },
  },
  "same-signature": { count: 25, shape: (d) => void (d.input.sameSignatureFraction = Number(between(d.random, 0.3, 0.6).toFixed(2))) },
  "side-branch": {
    count: 20,
    shape: (d) => {
      const side = [...d.history.mainline.keys()].filter((i) => !d.history.mainline[i]);
      if (side.length > 0) d.input.culprit = side[intBetween(d.random, 0, side.length - 1)] as number;
    },
  },
  merge: {
    count: 15,
    shape: (d) => {
      const merges = d.history.parents.map((p, i) => (p.length > 1 ? i : -1)).filter((i) => i > 0);
      if (merges.length > 0) d.input.culprit = merges[intBetween(d.random, 0, merges.length - 1)] as number;
    },
  },
  fix: {
    count: 25,
    shape: (d) => {
      d.input.kind = "fix";
      if (d.random() < 0.2) d.input.culprit = null;
    },
  },
  "older-than-range": { count: 15, shape: (d) => void (d.input.culprit = null) },
  "start-flake": {
    count: 10,
    shape: (d) => {
      d.input.culprit = null;
      d.input.startFlake = true;
    },
  },
  // The families below break what the strategy assumes; the world draws them regardless of it (issue 8).
  "old-base": {
    count: 20,
    shape: (d) => {
      const h = d.input.history;
      // Enough side branches for the roots to exist even in short ranges.
      h.mergeEvery = Math.min(h.mergeEvery ?? 0, Math.max(4, Math.floor(h.commits / 12)));
      h.oldBaseBranches = intBetween(d.random, 1, 6);
      d.history = generateHistory(h as Scenario["history"], d.input.seed);
      const root = pick(d.random, oldBaseRoots(d.history.parents));
      if (root === undefined) return;
      // Mostly the branch's first commit (its parent lies outside the range), else a later one on that branch.
      const onBranch: number[] = [];
      const desc = descendants(d.history.parents, root);
      for (let i = root + 1; i < d.history.parents.length; i++) if (desc[i] && !d.history.mainline[i]) onBranch.push(i);
      d.input.culprit = d.random() < 0.75 ? root : (pick(d.random, onBranch) ?? root);
    },
  },
  "title-drift": {
    count: 25,
    shape: (d) => {
      const at = laterOnMainline(d, culpritWithRoom(d));
      if (at !== undefined) d.input.target.titleChanges = [{ at, title: driftedTitle(d.random, d.input.target.title) }];
    },
  },
  "chance-change": {
    count: 30,
    shape: (d) => {
      // Rare near the culprit, frequent near the start: one chance for the whole range misleads.
      d.input.target.reproChance = Number(between(d.random, 0.1, 0.3).toFixed(2));
      const at = laterOnMainline(d, culpritWithRoom(d));
      if (at !== undefined) d.input.target.chanceChanges = [{ at, chance: Number(between(d.random, 0.7, 0.95).toFixed(2)) }];
    },
  },
  "few-vms": {
    count: 30,
    shape: (d) => {
      // 4 VMs for 10 runs per commit: a batch takes three waves, and a reliable reproducer needs
      // one. A third of the worlds are reliable only after the culprit: near it the chance drops.
      d.input.cost = { buildMinutes: 7, testMinutes: 8.5, vmsPerWorker: 4, runsPerCommit: 10 };
      const shape = d.random();
      if (shape < 0.4) d.input.target.reproChance = Number(between(d.random, 0.9, 1).toFixed(2));
      else if (shape < 0.7) d.input.target.reproChance = Number(between(d.random, 0.15, 0.8).toFixed(2));
      else {
        d.input.target.reproChance = Number(between(d.random, 0.15, 0.4).toFixed(2));
        const at = laterOnMainline(d, culpritWithRoom(d));
        if (at !== undefined) d.input.target.chanceChanges = [{ at, chance: Number(between(d.random, 0.9, 1).toFixed(2)) }];
      }
    },
  },
  "batch-failure": { count: 30, shape: (d) => void (d.input.batchFailure = Number(between(d.random, 0.1, 0.3).toFixed(2))) },
  "culprit-same-signature": { count: 15, shape: (d) => void (d.input.culpritSameSignature = true) },
  "named-target": {
    count: 20,
    shape: (d) => {
      d.input.namedTarget = true;
      // Half: a LOCKDEP target masked by another deadlock, where the only remedy would remove the target too.
      if (d.random() < 0.5) {
        d.input.target = { ...LOCKDEP_TARGET, reproChance: d.input.target.reproChance };
        d.input.otherCrashes = [lockdepMask(d, 0.3, 0.8)];
      } else {
        d.input.otherCrashes = [lockdepMask(d, 0.5, 0.98)];
      }
    },
  },
};

/** The example scenario of issue 4, kept verbatim as the suite's first member. */
export const SEED_LIKE_MASKING: ScenarioInput = {
  name: "seed-like masking",
  family: "masking-remedy",
  kind: "cause",
  seed: 7,
  history: { commits: 8000, mergeEvery: 40, sideBranchLength: 12, releaseEvery: 1000 },
  culprit: 5210,
  target: { title: "general protection fault in blk_mq_run_hw_queues", type: "DoS", reproChance: 0.6 },
  otherCrashes: [{ title: "possible deadlock in del_gendisk", type: "LOCKDEP", from: 4100, to: null, chance: 0.9, remedy: "disable:LOCKDEP" }],
  buildBroken: [{ from: 6000, to: 6040 }],
  bootBroken: [],
  sameSignatureFraction: 0.3,
  infraErrorRate: 0.01,
  cost: { buildMinutes: 7, testMinutes: 8.5, vmsPerWorker: 10 },
};

/** The built-in suite (450 scenarios for seed 1); another seed draws another suite of the same families. */
export function builtinSuite(seed = 1): Scenario[] {
  const scenarios: Scenario[] = [scenarioSchema.parse(SEED_LIKE_MASKING)];
  for (const [family, { count, shape }] of Object.entries(FAMILIES)) {
    for (let k = 0; k < count - (family === "masking-remedy" ? 1 : 0); k++) {
      const d = draft(family, k, hashSeed(seed, family, k) % 1000000);
      shape(d);
      scenarios.push(scenarioSchema.parse(d.input));
    }
  }
  return scenarios;
}
