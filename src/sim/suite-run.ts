// Runs strategies over scenarios and prints what `culprit sim` shows: accuracy, cost, calibration.

import type { Strategy } from "../core/strategy.js";
import { bayesStrategy } from "../core/bayes.js";
import { gitBisectStrategy, syzbot2021Strategy, syzbot2024Strategy } from "./baselines.js";
import type { Scenario } from "./scenario.js";
import { grade, summarise, type GradedRun, type Summary } from "./score.js";
import { simulate } from "./simulate.js";
import { buildWorld } from "./world.js";

export const STRATEGIES: readonly Strategy[] = [bayesStrategy, gitBisectStrategy, syzbot2021Strategy, syzbot2024Strategy];

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
          grade: grade(world, sim.result),
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
  const head = ["strategy", "P", "scen", "correct%", "wrong1%", "inconcl%", "none-ok%", "none-bad%", "builds", "runs", "wall h", "p90 h"];
  const widths = [12, 2, 5, 9, 8, 9, 9, 10, 7, 7, 7, 7];
  const lines = [head.map((h, i) => pad(h, widths[i] as number, i === 0)).join(" ")];
  for (const s of summaries) {
    const cells = [
      s.strategy,
      String(s.workers),
      String(s.scenarios),
      s.correctPct.toFixed(1),
      s.wrongSinglePct.toFixed(1),
      s.inconclusivePct.toFixed(1),
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

export function formatFamilies(runs: readonly GradedRun[], strategy: string, workers: number): string {
  const families = new Map<string, { n: number; correct: number; wrong: number }>();
  for (const r of runs) {
    if (r.strategy !== strategy || r.workers !== workers) continue;
    const f = families.get(r.family) ?? { n: 0, correct: 0, wrong: 0 };
    f.n++;
    if (r.grade === "correct" || r.grade === "correct-none" || r.grade === "correct-list") f.correct++;
    if (r.grade === "wrong-single") f.wrong++;
    families.set(r.family, f);
  }
  const parts = [...families.entries()].map(([name, f]) => `${name || "(none)"} ${f.correct}/${f.n}${f.wrong ? ` (${f.wrong} wrong)` : ""}`);
  return `${strategy} P=${workers} by family: ${parts.join(", ")}`;
}
