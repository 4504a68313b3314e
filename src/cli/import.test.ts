// `culprit import` through the real binary: a CLI work dir into a data dir, twice.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bisectInProcess, scratchHistory, simpleHistory } from "../bisect/testkit.js";
import { Store } from "../store/store.js";

const MAIN = fileURLToPath(new URL("./main.js", import.meta.url));
const run = promisify(execFile);

describe("culprit import", () => {
  it("stores a finished work dir once; the second import says nothing is new", async () => {
    const s = await scratchHistory(simpleHistory(20, { culprit: 12 }));
    try {
      const { result } = await bisectInProcess(s, { runs: 2, startRuns: 2, good: s.history.main[0] });
      const data = join(s.dir, "data");
      const work = join(s.dir, "work");
      const first = await run(process.execPath, [MAIN, "import", work, "--data", data]);
      assert.match(first.stdout, /: imported as job [0-9a-f-]{36} \(finished, \d+ new events\)\n$/);
      const second = await run(process.execPath, [MAIN, "import", work, "--data", data]);
      assert.match(second.stdout, /already stored, nothing new \(finished, 0 new events\)/);
      const store = await Store.open(join(data, "culprit.sqlite"));
      try {
        const [job] = await store.jobs();
        assert.equal(job?.culprit, result.culprit?.hash);
        assert.equal((await store.counts()).jobs, 1);
      } finally {
        await store.close();
      }
    } finally {
      await s.cleanup();
    }
  });

  it("a dir that is not a work dir: one line, exit 2, no data dir left", async () => {
    const s = await scratchHistory(simpleHistory(3, { culprit: 1 }));
    try {
      const data = join(s.dir, "data");
      await assert.rejects(run(process.execPath, [MAIN, "import", s.history.dir, "--data", data]), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /^culprit: .* holds no readable job\.json .*\n$/);
        return true;
      });
      assert.equal(existsSync(data), false);
    } finally {
      await s.cleanup();
    }
  });
});
