// What the job page's live parts show (the posterior chart and the stages), computed from the
// job's stored events over its commit graph, which is loaded from the repository once per job:
// the recorded graph boundary never changes, and a resume never resolves names again either.

import { recordedProblem, type BisectEvent } from "../bisect/events.js";
import { jobSchema } from "../bisect/config.js";
import { Dag } from "../core/dag.js";
import { Repo } from "../git/git.js";
import { crashSimilarity, sameCrash } from "../report/index.js";
import type { JobRow, Store } from "../store/store.js";
import { posteriorSeries, type PosteriorSeries } from "./posterior.js";
import { stepsLeftOf } from "./remaining.js";
import { stagesOf, type Stage } from "./stages.js";

export interface JobDashboard {
  /** Null until the range and the target crash are known, or when the repository is gone. */
  series: PosteriorSeries | null;
  stages: Stage[];
}

/** Graphs kept at once: a Linux range is tens of thousands of commits. */
const KEPT_GRAPHS = 16;

export class JobGraphs {
  private readonly graphs = new Map<string, Promise<Dag | undefined>>();

  /** The job's commit graph, or undefined when its repository cannot be read any more. */
  of(job: string, repoDir: string, problem: Extract<BisectEvent, { type: "problem" }>): Promise<Dag | undefined> {
    let graph = this.graphs.get(job);
    if (!graph) {
      graph = Repo.open(repoDir)
        .then(async (repo) => new Dag(await repo.graph(problem.graph.tip, problem.graph.exclude)))
        .catch(() => undefined);
      this.graphs.set(job, graph);
      for (const old of this.graphs.keys()) {
        if (this.graphs.size <= KEPT_GRAPHS) break;
        this.graphs.delete(old);
      }
    }
    return graph;
  }
}

/** Runs per commit as the job asked (its fields as given, the job file's default when absent). */
function runsPerCommit(row: JobRow): number {
  const fields = JSON.parse(row.job) as Record<string, unknown>;
  const runs = jobSchema.shape.runs.safeParse(fields["runs"]);
  return runs.success ? runs.data : 1;
}

/** The job's posterior after `events`: null until the range and the target are known, or when its repository is gone. */
async function jobSeries(graphs: JobGraphs, row: JobRow, events: readonly BisectEvent[]): Promise<PosteriorSeries | null> {
  const problem = recordedProblem(events);
  const dag = problem ? await graphs.of(row.id, row.repo, problem) : undefined;
  return dag ? (posteriorSeries(dag, events, { sameCrash, similarity: crashSimilarity, runsPerCommit: runsPerCommit(row) }) ?? null) : null;
}

/** Estimates kept: a number each, for the running jobs a list shows. */
const KEPT_ESTIMATES = 1000;

/**
 * Steps left for a job whose strategy counts none ahead, from its posterior (remaining.ts);
 * remembered per job until its next event, as a list of jobs asks again at every load.
 */
export class StepEstimates {
  private readonly known = new Map<string, { events: number; steps: number | undefined }>();

  constructor(private readonly graphs: JobGraphs) {}

  async of(row: JobRow, events: readonly BisectEvent[]): Promise<number | undefined> {
    const kept = this.known.get(row.id);
    if (kept && kept.events === events.length) return kept.steps;
    const series = await jobSeries(this.graphs, row, events);
    const steps = series ? stepsLeftOf([...series.mass, series.everywhere, series.nowhere]) : undefined;
    this.known.delete(row.id);
    this.known.set(row.id, { events: events.length, steps });
    for (const old of this.known.keys()) {
      if (this.known.size <= KEPT_ESTIMATES) break;
      this.known.delete(old);
    }
    return steps;
  }
}

export async function jobDashboard(store: Store, graphs: JobGraphs, row: JobRow): Promise<JobDashboard> {
  const events = (await store.events(row.id)).map((s) => s.event);
  const series = await jobSeries(graphs, row, events);
  const leading = series === null ? 0 : series.leading === "everywhere" ? series.everywhere : series.leading === "nowhere" ? series.nowhere : (series.mass[series.leading] as number);
  return { series, stages: stagesOf(events, leading) };
}
