// Console logs (and later artifacts) kept by content: the key is the SHA-256 of the bytes, so
// the same log stored twice is one file, and a key names its content wherever it travels.

import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";

const KEY = /^[0-9a-f]{64}$/;
/** Names given to blobs: a lower-case word and a hex key, e.g. build-<cache key>. */
const NAME = /^[a-z]+-[0-9a-f]{16,64}$/;
const NAMES = "names";

export function isBlobKey(text: string): boolean {
  return KEY.test(text);
}

export class BlobStore {
  constructor(readonly dir: string) {}

  pathOf(key: string): string {
    if (!isBlobKey(key)) throw new Error(`not a blob key: ${key}`);
    return join(this.dir, key.slice(0, 2), key.slice(2));
  }

  /** Stores bytes and returns their key; written under another name and renamed, so a reader never sees half a blob. */
  async put(bytes: Uint8Array): Promise<string> {
    const key = createHash("sha256").update(bytes).digest("hex");
    const path = this.pathOf(key);
    if (await exists(path)) return key;
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    const staging = `${path}.${randomUUID()}.tmp`;
    try {
      await writeFile(staging, bytes);
      await rename(staging, path);
    } finally {
      await rm(staging, { force: true });
    }
    return key;
  }

  /** Stores a file's content; undefined when the file is not there (a log a killed run never wrote). */
  async putFile(file: string): Promise<string | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch {
      return undefined;
    }
    return this.put(bytes);
  }

  /**
   * Stores bytes that arrive in pieces (an upload) under the key their sender named, after
   * checking that it is their SHA-256: a key never names other bytes. False: they were not.
   */
  async putVerified(key: string, chunks: AsyncIterable<Uint8Array>): Promise<boolean> {
    const path = this.pathOf(key);
    if (await exists(path)) return true;
    await mkdir(join(this.dir, key.slice(0, 2)), { recursive: true });
    const staging = `${path}.${randomUUID()}.tmp`;
    const hash = createHash("sha256");
    try {
      await pipeline(
        chunks,
        async function* (source: AsyncIterable<Uint8Array>) {
          for await (const chunk of source) {
            hash.update(chunk);
            yield chunk;
          }
        },
        createWriteStream(staging),
      );
      if (hash.digest("hex") !== key) return false;
      await rename(staging, path);
      return true;
    } finally {
      await rm(staging, { force: true });
    }
  }

  /** Names a stored blob (e.g. a build's artifacts by their cache key); the first name given stays. */
  async setName(name: string, key: string): Promise<void> {
    if (!NAME.test(name)) throw new Error(`not a blob name: ${name}`);
    const dir = join(this.dir, NAMES);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, name), key, { flag: "wx" }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "EEXIST") throw err;
    });
  }

  /** The key a name was given, if its blob is still there. */
  async named(name: string): Promise<string | undefined> {
    if (!NAME.test(name)) throw new Error(`not a blob name: ${name}`);
    const key = await readFile(join(this.dir, NAMES, name), "utf8").catch(() => undefined);
    return key !== undefined && isBlobKey(key) && (await this.has(key)) ? key : undefined;
  }

  async has(key: string): Promise<boolean> {
    return exists(this.pathOf(key));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.pathOf(key));
    } catch {
      return undefined;
    }
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
