import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ProcessRunner } from "./process.js";

describe("runs and the cached artifacts", () => {
  it("each run works on its own copy: the cache entry and sibling runs never see its writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "culprit-isolation-"));
    try {
      const artifacts = join(dir, "entry");
      mkdirSync(artifacts);
      writeFileSync(join(artifacts, "data"), "pristine\n");
      // Crashes (exit 3) if it finds what another run wrote; then scribbles over the artifact.
      const script = 'test -e mark && exit 3; grep -q pristine data || exit 4; touch mark; echo scribbled > data';
      const runner = new ProcessRunner({ command: ["sh", "-c", script] }, () => []);
      const results = await runner.run({
        commit: "c",
        artifactsDir: artifacts,
        scratchDir: join(dir, "scratch"),
        indices: [0, 1, 2, 3],
        parallel: 2,
        timeoutMs: 10_000,
        logDir: dir,
        signal: new AbortController().signal,
      });
      assert.deepEqual(results.map((r) => r.outcome.kind), ["ok", "ok", "ok", "ok"]);
      assert.equal(readFileSync(join(artifacts, "data"), "utf8"), "pristine\n");
      assert.deepEqual(readdirSync(artifacts), ["data"]);
      assert.deepEqual(readdirSync(join(dir, "scratch")), [], "copies are removed after their run");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
