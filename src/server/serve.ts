// culprit serve as a process: the data dir opened, the jobs going on, the API on a socket.

import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { UserError } from "../core/errors.js";
import { openDataDir } from "../store/data.js";
import { readTokens, realRoots, writeAdminTokens } from "./access.js";
import { createApp } from "./app.js";
import { Jobs } from "./jobs.js";

export interface ServeOptions {
  dataDir: string;
  /** A postgres:// URL; default the data dir's SQLite file. */
  db?: string;
  /** Default DATA/tokens.yaml, written with one admin token when missing. */
  tokensFile?: string;
  roots: readonly string[];
  port: number;
  host: string;
  maxJobs: number;
  /** Says what the server is doing (where its tokens are, where it listens). */
  say?: (line: string) => void;
}

export interface RunningServer {
  url: string;
  jobs: Jobs;
  /** Stops taking requests, stops running jobs (they go on at the next start), closes the store. */
  close(): Promise<void>;
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const say = options.say ?? (() => undefined);
  // The caller's mistakes are found before anything is written.
  const roots = realRoots(options.roots);
  const given = options.tokensFile ? readTokens(options.tokensFile) : undefined;
  const data = await openDataDir(options.dataDir, options.db);
  let server: ReturnType<typeof serve>;
  let jobs: Jobs;
  try {
    const tokensFile = join(data.dir, "tokens.yaml");
    if (!given && !existsSync(tokensFile)) {
      writeAdminTokens(tokensFile);
      say(`wrote an admin token to ${tokensFile}`);
    }
    const tokens = given ?? readTokens(tokensFile);
    jobs = new Jobs({ data, roots, maxJobs: options.maxJobs });
    const app = createApp({ store: data.store, blobs: data.blobs, jobs, tokens });
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s));
      s.once("error", (err: NodeJS.ErrnoException) =>
        reject(err.code === "EADDRINUSE" ? new UserError(`port ${options.port} is in use`, "choose another with --port") : err),
      );
    });
  } catch (err) {
    await data.store.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  await jobs.start();
  return {
    url,
    jobs,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Live event streams would hold the server open.
        if ("closeAllConnections" in server) server.closeAllConnections();
      });
      await jobs.stop();
      await data.store.close();
    },
  };
}
