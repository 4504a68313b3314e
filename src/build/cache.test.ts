import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BuildCache } from "./cache.js";

async function withCache(body: (cache: BuildCache, dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "culprit-cache-"));
  try {
    await body(new BuildCache(join(dir, "cache")), dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function filled(cache: BuildCache, key: string, content: string): Promise<string> {
  const staged = await cache.stage(key);
  writeFileSync(join(staged, "artifact"), content);
  return staged;
}

const ok = (signature: string) => ({ kind: "ok" as const, signature, commit: "c", durationMs: 1 });

describe("build cache", () => {
  it("two builds of one key in one step: the first entry stays whole and unchanged, the second is dropped", () =>
    withCache(async (cache) => {
      const key = cache.keyOf({ tree: "t", config: "c", toolchain: "gcc" });
      const a = await filled(cache, key, "first");
      const b = await filled(cache, key, "second");
      await cache.commit(key, a, ok("s1"));
      const inUse = join(cache.entryDir(key), "artifact");
      await cache.commit(key, b, ok("s2"));
      assert.equal(readFileSync(inUse, "utf8"), "first");
      assert.equal((await cache.lookup(key))?.kind, "ok");
      assert.equal(existsSync(a) || existsSync(b), false, "no staging directory left");
    }));

  it("replaces an entry whose build.json is gone or garbled", () =>
    withCache(async (cache) => {
      const key = cache.keyOf({ tree: "t", config: "c", toolchain: "gcc" });
      await cache.commit(key, await filled(cache, key, "old"), ok("s1"));
      writeFileSync(join(cache.entryDir(key), "build.json"), "{\"kind\":\"ok\"");
      assert.equal(await cache.lookup(key), undefined);
      await cache.commit(key, await filled(cache, key, "new"), ok("s2"));
      assert.equal(readFileSync(join(cache.entryDir(key), "artifact"), "utf8"), "new");
      assert.deepEqual(await cache.lookup(key), ok("s2"));
    }));

  it("sweeps staging directories of dead processes, not of live ones", () =>
    withCache(async (cache) => {
      const dead = spawnSync(process.execPath, ["-e", ""]).pid;
      const mine = await cache.stage("ab12");
      mkdirSync(join(cache.dir, "staging", `${dead}-x-ab12`), { recursive: true });
      await cache.sweep();
      assert.deepEqual(readdirSync(join(cache.dir, "staging")), [mine.split("/").at(-1)]);
    }));
});
