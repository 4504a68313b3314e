// The build cache: artifacts and signature keyed by what determines them — the source tree,
// the build configuration and the toolchain. A hit costs no build. Failed builds are cached
// too (same inputs, same failure); timeouts and killed builds are not, since they may be the
// machine's fault.
//
// Entries are written once and never changed in place: a build fills a staging directory of
// its own, which is renamed into place whole. A reader therefore sees a complete entry or none,
// and an entry another bisection is running from is never deleted under it.

import { createHash, randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { isProcessAlive } from "../run/exec.js";

export interface CacheKey {
  tree: string;
  config: string;
  toolchain: string;
}

export type CachedBuild =
  | { kind: "ok"; signature: string; commit: string; durationMs: number }
  | { kind: "failed"; excerpt: string; commit: string; durationMs: number };

const cachedBuild = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ok"), signature: z.string(), commit: z.string(), durationMs: z.number() }),
  z.object({ kind: z.literal("failed"), excerpt: z.string(), commit: z.string(), durationMs: z.number() }),
]);

const STAGING = "staging";

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
      const parsed = cachedBuild.safeParse(JSON.parse(await readFile(join(this.entryDir(key), "build.json"), "utf8")));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** A fresh directory of this process's own to build into; `commit` moves it into place. */
  async stage(key: string): Promise<string> {
    const dir = join(this.dir, STAGING, `${process.pid}-${randomUUID()}-${key.slice(0, 12)}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** Moves a filled staging directory into place; the entry already there wins if it is whole. */
  async commit(key: string, staged: string, build: CachedBuild): Promise<void> {
    await writeFile(join(staged, "build.json"), JSON.stringify(build));
    const final = this.entryDir(key);
    await mkdir(join(final, ".."), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await rename(staged, final);
        return;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
      }
      // Same inputs, same output: a whole entry someone else committed is as good as ours.
      if (await this.lookup(key)) {
        await rm(staged, { recursive: true, force: true });
        return;
      }
      // A broken entry (files removed by hand): moved aside in one step, then replaced.
      const aside = join(this.dir, STAGING, `broken-${randomUUID()}`);
      await rename(final, aside).catch(() => undefined);
      await rm(aside, { recursive: true, force: true });
    }
    await rm(staged, { recursive: true, force: true });
  }

  async discard(staged: string): Promise<void> {
    await rm(staged, { recursive: true, force: true });
  }

  /** Removes staging directories of processes that died mid-build (kill -9 leaves them). */
  async sweep(): Promise<void> {
    const names = await readdir(join(this.dir, STAGING)).catch(() => [] as string[]);
    for (const name of names) {
      const pid = Number(name.split("-")[0]);
      if (Number.isInteger(pid) && pid > 0 && isProcessAlive(pid)) continue;
      await rm(join(this.dir, STAGING, name), { recursive: true, force: true });
    }
  }
}
