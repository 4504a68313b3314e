// A worker's build cache, backed by the server: an entry missing here is looked for on the
// server by its cache key (a tar of another worker's entry) before anything is built, and an
// entry made here is uploaded before its build is reported. A build done once, by any worker
// with the same toolchain, is therefore never done again; a worker that only runs needs the
// artifacts, not the source.

import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { BuildCache, type CachedBuild } from "../build/cache.js";
import type { ServerClient } from "./serverClient.js";

/** tar with argv, no shell; its error output is the error. */
function tar(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn("tar", args as string[], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => (code === 0 ? resolve() : reject(new Error(`tar ${args[0]} failed (${code}): ${stderr.trim()}`))));
  });
}

export class SharedBuildCache extends BuildCache {
  constructor(
    dir: string,
    private readonly server: ServerClient,
  ) {
    super(dir);
  }

  override async lookup(key: string): Promise<CachedBuild | undefined> {
    const here = await super.lookup(key);
    if (here) return here;
    const blob = await this.server.buildBlob(key);
    if (!blob) return undefined;
    const staged = await this.stage(key);
    const archive = join(this.dir, "staging", `${process.pid}-${randomUUID()}.tar`);
    try {
      await this.server.getBlob(blob, archive);
      await tar(["-xf", archive, "-C", staged]);
      const build = JSON.parse(await readFile(join(staged, "build.json"), "utf8")) as CachedBuild;
      await super.commit(key, staged, build);
    } finally {
      await rm(archive, { force: true });
      await this.discard(staged);
    }
    return super.lookup(key);
  }

  /** Commits here, then uploads the entry (a failed build too: same inputs, same failure) before the build is reported. */
  override async commit(key: string, staged: string, build: CachedBuild): Promise<void> {
    await super.commit(key, staged, build);
    const archive = join(this.dir, "staging", `${process.pid}-${randomUUID()}.tar`);
    await mkdir(join(this.dir, "staging"), { recursive: true });
    try {
      await tar(["-cf", archive, "-C", this.entryDir(key), "."]);
      await this.server.nameBuild(key, await this.server.putBlob(archive));
    } finally {
      await rm(archive, { force: true });
    }
  }
}
