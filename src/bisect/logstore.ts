// Build and console logs by content: a log is stored under the hash of its bytes, and facts name
// it by that key. A key means the same file on every machine, and a request delivered twice
// cannot swap the log behind a recorded outcome for another run's (a path per run index could).

import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import type { LogLocator } from "./executor.js";

/** Under a work dir: its build and console logs, by content key. */
export const LOGS_DIR = "logs";

/** A log's key: the SHA-256 of its bytes, in hex. */
export const LOG_KEY = /^[0-9a-f]{64}$/;

export class LogStore implements LogLocator {
  constructor(readonly dir: string) {}

  path(key: string): string {
    if (!LOG_KEY.test(key)) throw new Error(`not a log key: ${key}`);
    return join(this.dir, key.slice(0, 2), `${key}.log`);
  }

  /** Stores bytes read elsewhere (a log an older event schema named by its path) and returns their key. */
  putBytes(bytes: Buffer): string {
    const key = createHash("sha256").update(bytes).digest("hex");
    const target = this.path(key);
    if (!existsSync(target)) {
      mkdirSync(join(target, ".."), { recursive: true });
      writeFileSync(target, bytes);
    }
    return key;
  }

  /** Moves `file` into the store and returns its key; a log already stored is kept once. */
  async put(file: string): Promise<string> {
    const hash = createHash("sha256");
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    const key = hash.digest("hex");
    const target = this.path(key);
    await mkdir(join(target, ".."), { recursive: true });
    // Same bytes, same name: replacing an equal file changes nothing a reader could see.
    await rename(file, target);
    return key;
  }
}
