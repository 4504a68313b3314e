// One simulated bisection told step by step (`culprit sim --trace NAME`): what the strategy asked
// and why (its notes), its answer beside the world's truth, and every commit's runs at the end.
// The tables say that a world was answered wrongly; this says how.

import type { Observation, RunOutcome } from "../core/outcome.js";
import type { Note, Step, Strategy } from "../core/strategy.js";
import { simulate } from "./simulate.js";
import { gradeOf } from "./suite-run.js";
import type { World } from "./world.js";

function describeStep(step: Step): string {
  if (step.kind === "done") return `answer ${JSON.stringify(step.result)}`;
  const tests = step.tests.map((t) => `${t.commit}${t.remedies.length > 0 ? `+${t.remedies.join("+")}` : ""} ×${t.runs}${t.alongside ? " (alongside)" : ""}`);
  return `test ${tests.length > 0 ? tests.join(", ") : "nothing new (waiting for tests in flight)"}`;
}

function describeNote(note: Note): string | undefined {
  switch (note.kind) {
    case "info":
      return note.text;
    case "release":
      return `release ${note.tag} (${note.commit})`;
    case "target":
      return `target: ${note.crash.title}`;
    default:
      return undefined;
  }
}

function runLabel(run: RunOutcome): string {
  switch (run.kind) {
    case "ok":
      return "clean";
    case "crash":
      return run.crash.title;
    case "boot-failed":
    case "basic-failed":
      return `${run.kind}: ${run.crash.title}`;
    case "infra":
    case "untestable":
      return `${run.kind}: ${run.reason}`;
  }
}

/** One line per (commit, remedies): where it sits in the world, its build, and its runs by outcome. */
function describeObservation(world: World, o: Observation): string {
  const index = world.byHash.get(o.commit);
  const counts = new Map<string, number>();
  for (const run of o.runs) counts.set(runLabel(run), (counts.get(runLabel(run)) ?? 0) + 1);
  const runs = [...counts].map(([label, n]) => `${n}× ${label}`).join(", ");
  const build = o.build?.kind === "ok" ? `builds ${o.build.signature}` : o.build?.kind === "failed" ? "build fails" : "not built";
  const present = index !== undefined && world.targetPresent[index] ? "bug present" : "bug absent";
  return `${o.commit} [${index ?? "?"}]${o.remedies.length > 0 ? ` +${o.remedies.join("+")}` : ""}: ${present}, ${build}; ${runs || "no runs"}`;
}

/** The trace of `strategy` with `workers` workers through `world`, as lines of text. */
export function traceRun(world: World, strategy: Strategy, workers: number): string[] {
  const lines: string[] = [];
  let last: readonly Observation[] = [];
  let asked = 0;
  const traced: Strategy = {
    name: strategy.name,
    next: (problem, observations, inFlight) => {
      const step = strategy.next(problem, observations, inFlight);
      last = observations;
      asked++;
      lines.push(`#${asked} ${describeStep(step)}`);
      for (const note of step.notes) {
        const text = describeNote(note);
        if (text !== undefined) lines.push(`    ${text}`);
      }
      return step;
    },
  };
  const run = simulate(world, traced, workers);
  const { culprit } = world.scenario;
  const truth = culprit === null ? "none in the range" : `${world.history.hashes[culprit]} [${culprit}]`;
  lines.push(
    `${strategy.name} P=${workers}: ${gradeOf(world, strategy.name, run.result)}; truth: culprit ${truth}; ${run.builds} builds, ${run.runs} runs, ${(run.wallMinutes / 60).toFixed(2)} h`,
  );
  lines.push("commits tested, oldest first:");
  const sorted = [...last].sort((a, b) => (world.byHash.get(a.commit) ?? 0) - (world.byHash.get(b.commit) ?? 0));
  for (const o of sorted) lines.push(`  ${describeObservation(world, o)}`);
  return lines;
}
