// Runs strategies over scenarios and prints what `culprit sim` shows: accuracy, cost, calibration.

import type { Strategy, StrategyResult } from "../core/strategy.js";
import { bayesStrategy } from "../core/bayes.js";
import { gitBisectStrategy, syzbot2021Strategy, syzbot2024Strategy } from "./baselines.js";
import type { Scenario } from "./scenario.js";
import { grade, isCorrect, summarise, type Grade, type GradedRun, type Summary } from "./score.js";
import { simulate } from "./simulate.js";
import { buildWorld, type World } from "./world.js";

export const STRATEGIES: readonly Strategy[] = [bayesStrategy, gitBisectStrategy, syzbot2021Strategy, syzbot2024Strategy];

/** syzbot's results are graded as its dashboard grades them: a merge, no-op or release culprit is not reported. */
const DASHBOARD_GRADED: ReadonlySet<string> = new Set([syzbot2021Strategy.name, syzbot2024Strategy.name]);

/** The grade of `strategy`'s result in `world`, as the tables count it. */
export function gradeOf(world: World, strategy: string, result: StrategyResult): Grade {
  return grade(world, result, DASHBOARD_GRADED.has(strategy));
}

export function runSuite(
  scenarios: readonly Scenario[],
  strategies: readonly Strategy[],
  workers: readonly number[],
  onRun?: (run: GradedRun) => void,
): { runs: GradedRun[]; summaries: Summary[] } {
  const runs: GradedRun[] = [];
  for (const scenario of scenarios) {
    // One world per scenario, shared by every strategy: same history, same random streams.
    const world = buildWorld(scenario);
    for (const strategy of strategies) {
      for (const p of workers) {
        const sim = simulate(world, strategy, p);
        const graded: GradedRun = {
          ...sim,
          scenario: scenario.name,
          family: scenario.family ?? "",
          strategy: strategy.name,
          workers: p,
          grade: gradeOf(world, strategy.name, sim.result),
        };
        runs.push(graded);
        onRun?.(graded);
      }
    }
  }
  const summaries: Summary[] = [];
  for (const strategy of strategies) {
    for (const p of workers) {
      summaries.push(summarise(strategy.name, p, runs.filter((r) => r.strategy === strategy.name && r.workers === p)));
    }
  }
  return { runs, summaries };
}

function pad(s: string, width: number, left = false): string {
  return left ? s.padEnd(width) : s.padStart(width);
}

export function formatSummaries(summaries: readonly Summary[]): string {
  const head = ["strategy", "P", "scen", "correct%", "wrong1%", "inconcl%", "wronglist%", "unrel%", "none-ok%", "none-bad%", "builds", "runs", "wall h", "p90 h"];
  const widths = [12, 2, 5, 9, 8, 9, 11, 7, 9, 10, 7, 7, 7, 7];
  const lines = [head.map((h, i) => pad(h, widths[i] as number, i === 0)).join(" ")];
  for (const s of summaries) {
    const cells = [
      s.strategy,
      String(s.workers),
      String(s.scenarios),
      s.correctPct.toFixed(1),
      s.wrongSinglePct.toFixed(1),
      s.inconclusivePct.toFixed(1),
      s.wrongListPct.toFixed(1),
      s.unreliablePct.toFixed(1),
      s.correctNonePct.toFixed(1),
      s.wrongNonePct.toFixed(1),
      s.meanBuilds.toFixed(1),
      s.meanRuns.toFixed(1),
      s.meanWallHours.toFixed(2),
      s.p90WallHours.toFixed(2),
    ];
    lines.push(cells.map((c, i) => pad(c, widths[i] as number, i === 0)).join(" "));
  }
  lines.push("");
  lines.push("calibration (results naming a culprit or \"no culprit\"; confidence decile: correct/results = accuracy)");
  for (const s of summaries) {
    const rows = s.calibration
      .filter((r) => r.results > 0)
      .map((r) => `${r.from.toFixed(1)}-${(r.from + 0.1).toFixed(1)}: ${r.correct}/${r.results}=${((100 * r.correct) / r.results).toFixed(0)}%`);
    lines.push(`  ${pad(s.strategy, 12, true)} P=${s.workers}  ${rows.join("  ")}`);
  }
  return lines.join("\n");
}

/** A single wrong culprit stated at this confidence or more is "confidently wrong" (issue 8's measure). */
export const CONFIDENT = 0.95;

/**
 * One row per family, one column per (strategy, P): `correct/n`, then `wW/C` when W results named a
 * single wrong culprit, C of them at ≥ 95% confidence, and `lL` when L answered with a list without the culprit.
 */
export function formatFamilies(runs: readonly GradedRun[], strategies: readonly string[], workers: readonly number[]): string {
  const columns = strategies.flatMap((strategy) => workers.map((p) => ({ strategy, p, label: `${strategy} P=${p}` })));
  const families = [...new Set(runs.map((r) => r.family))];
  const cell = (family: string, strategy: string, p: number): string => {
    const mine = runs.filter((r) => r.family === family && r.strategy === strategy && r.workers === p);
    const correct = mine.filter((r) => isCorrect(r.grade)).length;
    const wrong = mine.filter((r) => r.grade === "wrong-single");
    const confident = wrong.filter((r) => r.result.confidence >= CONFIDENT).length;
    const lists = mine.filter((r) => r.grade === "wrong-list").length;
    return `${correct}/${mine.length}${wrong.length > 0 ? ` w${wrong.length}/${confident}` : ""}${lists > 0 ? ` l${lists}` : ""}`;
  };
  const widths = columns.map((c) => Math.max(c.label.length, 13));
  const first = Math.max(6, ...families.map((f) => (f || "(none)").length));
  const lines = [[pad("family", first, true), ...columns.map((c, i) => pad(c.label, widths[i] as number))].join("  ")];
  for (const family of families) {
    lines.push([pad(family || "(none)", first, true), ...columns.map((c, i) => pad(cell(family, c.strategy, c.p), widths[i] as number))].join("  "));
  }
  lines.push(`(correct/scenarios; wW/C: W named a single wrong culprit, C of them at confidence >= ${CONFIDENT}; lL: L answered with a list that leaves the culprit out)`);
  return lines.join("\n");
}
