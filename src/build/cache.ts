// The build cache: artifacts and signature keyed by what determines them — the source tree,
// the build configuration and the toolchain. A hit costs no build. Failed builds are cached
// too (same inputs, same failure); timeouts are not, since they may be the machine's fault.

import { createHash } from "node:crypto";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface CacheKey {
  tree: string;
  config: string;
  toolchain: string;
}

export type CachedBuild =
  | { kind: "ok"; signature: string; commit: string; durationMs: number }
  | { kind: "failed"; excerpt: string; commit: string; durationMs: number };

export class BuildCache {
  constructor(readonly dir: string) {}

  keyOf(key: CacheKey): string {
    return createHash("sha256").update(`${key.tree}\n${key.config}\n${key.toolchain}`).digest("hex");
  }

  entryDir(key: string): string {
    return join(this.dir, key.slice(0, 2), key);
  }

  async lookup(key: string): Promise<CachedBuild | undefined> {
    try {
      return JSON.parse(await readFile(join(this.entryDir(key), "build.json"), "utf8")) as CachedBuild;
    } catch {
      return undefined;
    }
  }

  /** A fresh directory to build into; `commit` moves it into place. */
  async stage(key: string): Promise<string> {
    const dir = `${this.entryDir(key)}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async commit(key: string, staged: string, build: CachedBuild): Promise<void> {
    await writeFile(join(staged, "build.json"), JSON.stringify(build));
    const final = this.entryDir(key);
    await rm(final, { recursive: true, force: true });
    try {
      await rename(staged, final);
    } catch {
      // Another worker filled the same entry first; theirs is as good as ours.
      await rm(staged, { recursive: true, force: true });
    }
  }

  async discard(staged: string): Promise<void> {
    await rm(staged, { recursive: true, force: true });
  }
}
