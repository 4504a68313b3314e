// `culprit sim`: run strategies over simulated bisections and print accuracy, cost and calibration.

import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { UserError } from "../core/errors.js";
import { parseScenarios, type Scenario } from "../sim/scenario.js";
import { builtinSuite } from "../sim/suite.js";
import { STRATEGIES, formatFamilies, formatSummaries, runSuite } from "../sim/suite-run.js";
import { traceRun } from "../sim/trace.js";
import { buildWorld } from "../sim/world.js";

interface SimOptions {
  scenarios: string;
  strategies: string;
  workers: string;
  json?: boolean;
  seed: string;
  family?: string;
  byFamily?: boolean;
  trace?: string;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new UserError(`cannot read scenario file ${file}: ${(err as Error).message}`);
  }
}

export function loadScenarios(source: string, seed: number): Scenario[] {
  if (source === "builtin") return builtinSuite(seed);
  let stat;
  try {
    stat = statSync(source);
  } catch {
    throw new UserError(`no such scenario file or directory: ${source}`, "pass a .json file, a directory of them, or 'builtin'");
  }
  if (!stat.isDirectory()) return parseScenarios(readJson(source), source);
  const files = readdirSync(source).filter((f) => f.endsWith(".json")).sort();
  if (files.length === 0) throw new UserError(`no .json scenario files in ${source}`);
  return files.flatMap((f) => parseScenarios(readJson(join(source, f)), join(source, f)));
}

function parseWorkers(text: string): number[] {
  const list = text.split(",").map((w) => Number(w.trim()));
  if (list.some((w) => !Number.isInteger(w) || w < 1)) throw new UserError(`--workers must be positive integers, got '${text}'`, "e.g. --workers 1,4");
  return list;
}

export function registerSim(program: Command): void {
  program
    .command("sim")
    .description("compare bisection strategies on simulated histories (accuracy, cost, calibration)")
    .option("--scenarios <source>", "a scenario .json file, a directory of them, or 'builtin'", "builtin")
    .option("--strategies <names>", `comma-separated: ${STRATEGIES.map((s) => s.name).join(",")}`, STRATEGIES.map((s) => s.name).join(","))
    .option("--workers <P>", "commits tested at once; a comma list runs each (e.g. 1,4)", "1")
    .option("--seed <n>", "seed of the built-in suite", "1")
    .option("--family <name>", "only scenarios of this family")
    .option("--by-family", "print the table of results per scenario family (the default)", true)
    .option("--no-by-family", "do not print the table per family")
    .option("--json", "print summaries and per-scenario results as JSON")
    .option("--trace <name>", "tell one scenario's bisection step by step (each strategy and P): what was asked, the notes, the runs")
    .action((options: SimOptions) => {
      const seed = Number(options.seed);
      if (!Number.isInteger(seed)) throw new UserError(`--seed must be an integer, got '${options.seed}'`);
      let scenarios = loadScenarios(options.scenarios, seed);
      if (options.family) scenarios = scenarios.filter((s) => s.family === options.family);
      if (scenarios.length === 0) throw new UserError("no scenarios to run", options.family ? `no scenario has family '${options.family}'` : undefined);
      const names = options.strategies.split(",").map((s) => s.trim());
      const strategies = names.map((name) => {
        const strategy = STRATEGIES.find((s) => s.name === name);
        if (!strategy) throw new UserError(`unknown strategy '${name}'`, `choose from ${STRATEGIES.map((s) => s.name).join(", ")}`);
        return strategy;
      });
      const workers = parseWorkers(options.workers);
      if (options.trace !== undefined) {
        const scenario = scenarios.find((s) => s.name === options.trace);
        if (!scenario) throw new UserError(`no scenario named '${options.trace}' in ${options.scenarios}`, "--json lists the scenario names");
        const world = buildWorld(scenario);
        for (const strategy of strategies) for (const p of workers) process.stdout.write(`${traceRun(world, strategy, p).join("\n")}\n\n`);
        return;
      }
      const { runs, summaries } = runSuite(scenarios, strategies, workers);
      if (options.json) {
        const results = runs.map(({ result, builds, runs: r, wallMinutes, steps, scenario, family, strategy, workers: p, grade }) => ({
          scenario, family, strategy, workers: p, grade, result, builds, runs: r, wallHours: wallMinutes / 60, steps,
        }));
        process.stdout.write(`${JSON.stringify({ summaries, results }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${scenarios.length} scenarios from ${options.scenarios}\n\n${formatSummaries(summaries)}\n`);
      if (options.byFamily) process.stdout.write(`\n${formatFamilies(runs, strategies.map((s) => s.name), workers)}\n`);
    });
}
