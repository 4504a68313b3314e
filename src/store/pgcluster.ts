// A private PostgreSQL server for tests and benchmarks: Debian's binaries, a cluster in a temp
// dir, reached only through a unix socket in that dir (no port taken on the machine), run as
// `nobody` when we are root (postgres refuses root), stopped and removed by stop().

import { execFile } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { appendFile, chown, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const DEBIAN_DIR = "/usr/lib/postgresql";

/** The newest installed server's bin dir. */
export function postgresBinDir(): string {
  const versions = existsSync(DEBIAN_DIR)
    ? readdirSync(DEBIAN_DIR)
        .filter((v) => existsSync(join(DEBIAN_DIR, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) throw new Error(`PostgreSQL is not installed (no ${DEBIAN_DIR}/*/bin/initdb): run bash scripts/setup`);
  return join(DEBIAN_DIR, newest, "bin");
}

export interface PgCluster {
  /** A new, empty database on the cluster, as a URL for Store.open. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

export async function startPgCluster(): Promise<PgCluster> {
  const bin = postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), "culprit-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const as = async (argv: string[]): Promise<void> => {
    await run(asRoot ? "runuser" : (argv[0] as string), asRoot ? ["-u", "nobody", "--", ...argv] : argv.slice(1));
  };
  try {
    if (asRoot) {
      const uid = Number((await run("id", ["-u", "nobody"])).stdout.trim());
      const gid = Number((await run("id", ["-g", "nobody"])).stdout.trim());
      await chown(dir, uid, gid);
    }
    await as([join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8", "--locale=C"]);
    await appendFile(data + "/postgresql.conf", [`unix_socket_directories = '${dir}'`, "listen_addresses = ''", "port = 5432", "fsync = off", ""].join("\n"));
    await as([join(bin, "pg_ctl"), "-D", data, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`cannot start a PostgreSQL cluster with ${bin}: ${(err as Error).message}`);
  }
  const url = (db: string): string => `postgres://postgres@/${db}?host=${encodeURIComponent(dir)}`;
  let databases = 0;
  return {
    async createDatabase() {
      const name = `culprit_${++databases}`;
      const client = new pg.Client({ connectionString: url("postgres") });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    async stop() {
      try {
        await as([join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"]);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
