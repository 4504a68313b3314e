import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keepHeadAndTail } from "./boundedLog.js";

describe("keepHeadAndTail", () => {
  it("cuts a 20 MB console to its head and tail, with a line saying so", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-log-"));
    try {
      const file = join(dir, "run-0.log");
      const line = "spinning and printing\n";
      await writeFile(file, `BUG: first report\n${line.repeat(Math.ceil(20_000_000 / line.length))}last report: KASAN\n`);
      await keepHeadAndTail(file, 1_000_000);
      const { size } = await stat(file);
      assert.ok(size < 1_001_000, `kept ${size} bytes`);
      const text = await readFile(file, "utf8");
      assert.ok(text.startsWith("BUG: first report\n"));
      assert.ok(text.endsWith("last report: KASAN\n"));
      assert.match(text, /\n… culprit kept the first and last 500000 bytes: \d+ bytes cut here …\n/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("leaves a small console alone", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-log-"));
    try {
      const file = join(dir, "run-0.log");
      await writeFile(file, "OK\n");
      await keepHeadAndTail(file, 1000);
      assert.equal(await readFile(file, "utf8"), "OK\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
