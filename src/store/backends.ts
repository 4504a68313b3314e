// The store's two backends as tests and benchmarks use them: a fresh, empty database on demand.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPgCluster } from "./pgcluster.js";

export interface Backend {
  name: "sqlite" | "postgres";
  /** A location for Store.open that holds nothing yet. */
  fresh(): Promise<string>;
  /** Removes every database it made (and stops its server). */
  teardown(): Promise<void>;
}

export async function sqliteBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), "culprit-sqlite-"));
  let files = 0;
  return { name: "sqlite", fresh: async () => join(dir, `store-${++files}.sqlite`), teardown: () => rm(dir, { recursive: true, force: true }) };
}

export async function postgresBackend(): Promise<Backend> {
  const cluster = await startPgCluster();
  return { name: "postgres", fresh: () => cluster.createDatabase(), teardown: () => cluster.stop() };
}

export const backends: Record<Backend["name"], () => Promise<Backend>> = { sqlite: sqliteBackend, postgres: postgresBackend };
