// A test whose build and runs need different machines (a kernel: built where compilers are,
// booted where QEMU is): the build goes to one executor, and the runs, with the build's cache
// key, to another, which finds the artifacts by that key and needs neither the source nor a
// compiler. The facts are those one executor doing both would send: the build's, then the runs'.
// A build recorded earlier is not asked for again: its key is in the request.

import type { ExecutionOptions, ExecutionRequest, Executor, Fact } from "../bisect/executor.js";
import type { BuildOutcome } from "../core/outcome.js";

export class SplitExecutor implements Executor {
  readonly durable: boolean;

  constructor(
    private readonly builds: Executor,
    private readonly runs: Executor,
  ) {
    this.durable = builds.durable === true && runs.durable === true;
  }

  async execute(request: ExecutionRequest, options: ExecutionOptions): Promise<Fact[]> {
    const facts: Fact[] = [];
    let built: { outcome: BuildOutcome; cacheKey: string } | undefined = request.recorded && request.cacheKey !== undefined ? { outcome: request.recorded, cacheKey: request.cacheKey } : undefined;
    if (!built) {
      // Built (or found built) by a machine that builds; it says so in its facts, with the key.
      const { recorded: _recorded, cacheKey: _cacheKey, ...build } = request;
      facts.push(...(await this.builds.execute({ ...build, indices: [] }, options)));
      const finished = facts.find((f): f is Extract<Fact, { type: "build-finished" }> => f.type === "build-finished");
      if (!finished || options.signal.aborted) return facts;
      if (finished.cacheKey === undefined) throw new Error(`the build of ${request.commit} was reported without its cache key: no other machine can find its artifacts`);
      built = { outcome: finished.build, cacheKey: finished.cacheKey };
    }
    if (built.outcome.kind !== "ok" || request.indices.length === 0) return facts;
    facts.push(...(await this.runs.execute({ ...request, recorded: built.outcome, cacheKey: built.cacheKey }, options)));
    return facts;
  }
}
