// Console logs (and later artifacts) kept by content: the key is the SHA-256 of the bytes, so
// the same log stored twice is one file, and a key names its content wherever it travels.

import { createHash, randomUUID } from "node:crypto";
import { mkdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

const KEY = /^[0-9a-f]{64}$/;

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
