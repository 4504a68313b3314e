import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { requestsToStart } from "./schedule.js";
import type { TestRequest } from "./strategy.js";

const t = (commit: string, remedies: string[] = [], runs = 10): TestRequest => ({ commit, runs, remedies });

describe("requestsToStart", () => {
  const cases: [string, TestRequest[], TestRequest[], number, string[]][] = [
    ["idle workers take requests in the strategy's order", [t("a"), t("b"), t("c")], [], 2, ["a", "b"]],
    ["a commit in flight is not started twice", [t("a"), t("b")], [t("a")], 3, ["b"]],
    ["the same commit with other remedies is another test", [t("a", ["disable:LOCKDEP"])], [t("a")], 1, ["a+disable:LOCKDEP"]],
    ["a repeated request in one answer starts once", [t("a"), t("a", [], 5)], [], 2, ["a"]],
    ["no free worker, nothing starts", [t("a")], [t("b")], 0, []],
    ["everything asked for is in flight: wait", [t("a"), t("b")], [t("b"), t("a")], 2, []],
    ["runs alongside a commit in flight start on other workers", [t("a"), { ...t("a"), alongside: true }, { ...t("a"), alongside: true }], [t("a")], 3, ["a", "a"]],
    ["runs alongside still wait for a free worker", [{ ...t("a"), alongside: true }, { ...t("a"), alongside: true }], [t("a")], 1, ["a"]],
  ];
  for (const [name, requests, inFlight, free, want] of cases) {
    it(name, () => assert.deepEqual(requestsToStart(requests, inFlight, free).map((r) => (r.remedies.length ? `${r.commit}+${r.remedies.join(",")}` : r.commit)), want));
  }
});
