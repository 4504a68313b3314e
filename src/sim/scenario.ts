// The scenario file format (docs/simulator.md): a synthetic world in which a strategy bisects.

import { z } from "zod";
import { UserError } from "../core/errors.js";

const index = z.number().int().min(0);
const chance = z.number().min(0).max(1);
const stretch = z.object({ from: index, to: index });

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    /** Free-form label of the family the scenario was drawn from (reports group by it). */
    family: z.string().optional(),
    kind: z.enum(["cause", "fix"]),
    seed: z.number().int(),
    history: z.object({
      commits: z.number().int().min(3).max(200000),
      mergeEvery: z.number().int().min(0).default(0),
      sideBranchLength: z.number().int().min(0).default(1),
      /** 0 = no releases but the oldest commit. */
      releaseEvery: z.number().int().min(0).default(1000),
      /** Merged side branches whose first commit's parent lies outside the range. */
      oldBaseBranches: z.number().int().min(0).default(0),
    }),
    culprit: index.nullable(),
    target: z.object({
      title: z.string().min(1),
      type: z.string().default(""),
      reproChance: chance,
      remedy: z.string().optional(),
      /** From commit `at` on (its descendants) the same bug reports under `title`: same type, same stack below the top frame. */
      titleChanges: z.array(z.object({ at: index, title: z.string().min(1) })).default([]),
      /** From commit `at` on (its descendants) one run shows the bug with `chance`. */
      chanceChanges: z.array(z.object({ at: index, chance })).default([]),
    }),
    otherCrashes: z
      .array(
        z.object({
          title: z.string().min(1),
          type: z.string().default(""),
          from: index,
          to: index.nullable().default(null),
          chance,
          remedy: z.string().optional(),
        }),
      )
      .default([]),
    buildBroken: z.array(stretch).default([]),
    bootBroken: z.array(stretch).default([]),
    sameSignatureFraction: chance.default(0),
    infraErrorRate: chance.default(0),
    /** The bug is nowhere; only the start commit's first run showed the target (culprit must be null). */
    startFlake: z.boolean().default(false),
    /** Chance that a whole batch at a commit shows no target at all (a bad host, a broken VM image), not flagged as infra. */
    batchFailure: chance.default(0),
    /** The culprit builds to its parent's binary: the change lies outside the declared artifacts. */
    culpritSameSignature: z.boolean().default(false),
    /** The strategy is told only the target's title, as with `--crash TITLE`. */
    namedTarget: z.boolean().default(false),
    cost: z
      .object({
        buildMinutes: z.number().min(0).default(7),
        testMinutes: z.number().min(0).default(8.5),
        vmsPerWorker: z.number().int().min(1).default(10),
        /** Runs per commit asked of the strategy (the job's `runs`); absent = `vmsPerWorker`. */
        runsPerCommit: z.number().int().min(1).optional(),
      })
      .default({ buildMinutes: 7, testMinutes: 8.5, vmsPerWorker: 10 }),
  })
  .superRefine((s, ctx) => {
    const n = s.history.commits;
    const check = (value: number | null, path: (string | number)[]): void => {
      if (value !== null && value >= n) ctx.addIssue({ code: "custom", message: `commit index ${value} is outside 0..${n - 1}`, path });
    };
    check(s.culprit, ["culprit"]);
    if (s.startFlake && s.culprit !== null) ctx.addIssue({ code: "custom", message: "startFlake needs culprit null", path: ["startFlake"] });
    s.target.titleChanges.forEach((c, i) => check(c.at, ["target", "titleChanges", i, "at"]));
    s.target.chanceChanges.forEach((c, i) => check(c.at, ["target", "chanceChanges", i, "at"]));
    s.otherCrashes.forEach((o, i) => {
      check(o.from, ["otherCrashes", i, "from"]);
      check(o.to, ["otherCrashes", i, "to"]);
    });
    for (const key of ["buildBroken", "bootBroken"] as const) {
      s[key].forEach((r, i) => {
        check(r.from, [key, i, "from"]);
        check(r.to, [key, i, "to"]);
        if (r.to < r.from) ctx.addIssue({ code: "custom", message: "stretch ends before it starts", path: [key, i] });
      });
    }
  });

export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;

/** Parses one scenario (or an array of them); `where` names the source in error messages. */
export function parseScenarios(json: unknown, where: string): Scenario[] {
  const list = Array.isArray(json) ? json : [json];
  return list.map((item, i) => {
    const parsed = scenarioSchema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const path = issue ? issue.path.join(".") : "";
      throw new UserError(
        `${where}${list.length > 1 ? ` [${i}]` : ""}: invalid scenario${path ? ` at ${path}` : ""}: ${issue?.message ?? "unknown error"}`,
        "see docs/simulator.md for the scenario format",
      );
    }
    return parsed.data;
  });
}
