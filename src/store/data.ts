// A data dir: what `culprit serve` and `culprit import` keep on disk. The database (a SQLite
// file here, unless --db names a PostgreSQL server), the blob store, and the work dir of every
// job the server runs.

import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { BlobStore } from "./blobs.js";
import { Store } from "./store.js";

export interface DataDir {
  dir: string;
  store: Store;
  blobs: BlobStore;
  /** Where each job's work dir goes: JOBS/ID. */
  jobsDir: string;
}

/** $XDG_DATA_HOME/culprit, else ~/.local/share/culprit. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env["XDG_DATA_HOME"] && isAbsolute(env["XDG_DATA_HOME"]) ? env["XDG_DATA_HOME"] : join(homedir(), ".local", "share");
  return join(home, "culprit");
}

export async function openDataDir(dir: string, db?: string): Promise<DataDir> {
  const root = resolve(dir);
  const store = await Store.open(db ?? join(root, "culprit.sqlite"));
  // With PostgreSQL nothing has made the dir yet, and the tokens, blobs and work dirs go there;
  // made only once the database answered, so a refused start leaves nothing behind.
  await mkdir(root, { recursive: true });
  return { dir: root, store, blobs: new BlobStore(join(root, "blobs")), jobsDir: join(root, "jobs") };
}
