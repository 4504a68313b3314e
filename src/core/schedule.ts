// Which of a strategy's requests start now. Tests run as a pipeline, not in lockstep batches:
// the strategy is asked again whenever a worker frees up, sees what is still in flight, and a
// request for a commit already in flight waits for its answer instead of running twice, unless the
// strategy asks for its runs alongside (more runs of a built commit, on another worker).

import { observationKey } from "./outcome.js";
import type { TestRequest } from "./strategy.js";

/** Requests to start now, in the strategy's order: none already in flight, at most `freeWorkers`. */
export function requestsToStart(requests: readonly TestRequest[], inFlight: readonly TestRequest[], freeWorkers: number): TestRequest[] {
  const busy = new Set(inFlight.map((r) => observationKey(r.commit, r.remedies)));
  const start: TestRequest[] = [];
  for (const request of requests) {
    if (start.length >= freeWorkers) break;
    const key = observationKey(request.commit, request.remedies);
    if (busy.has(key) && !request.alongside) continue;
    busy.add(key);
    start.push(request);
  }
  return start;
}
