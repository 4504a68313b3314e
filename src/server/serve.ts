// culprit serve as a process: the data dir opened, the jobs going on, the API on a socket.

import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { UserError } from "../core/errors.js";
import { openDataDir } from "../store/data.js";
import { readTokens, realRoots, writeAdminTokens } from "./access.js";
import { createApp } from "./app.js";
import { Jobs } from "./jobs.js";
import { Outbox, type MailOutcome } from "./outbox.js";
import { checkReachable, stagesOf } from "../queue/queues.js";
import { QueueExecutors } from "../queue/queueExecutor.js";

export interface ServeOptions {
  dataDir: string;
  /** A postgres:// URL; default the data dir's SQLite file. */
  db?: string;
  /** Default DATA/tokens.yaml, written with one admin token when missing. */
  tokensFile?: string;
  roots: readonly string[];
  /** URL prefixes of repositories jobs may name by URL. */
  allowUrls?: readonly string[];
  port: number;
  host: string;
  maxJobs: number;
  /** Builds at once, across all jobs. */
  builds?: number;
  /** Test runs (processes, VMs) at once, across all jobs. */
  runs?: number;
  /** Says what the server is doing (where its tokens are, where it listens). */
  say?: (line: string) => void;
  /** smtp://HOST:PORT to send report e-mails through; without it they stay in DATA/outbox. */
  smtp?: string;
  /** The From of report e-mails (default culprit@ this host's name). */
  mailFrom?: string;
  /** Mail unreliable results too. */
  mailAll?: boolean;
  /** The server's address in report e-mails' links (default the address it listens on). */
  publicUrl?: string;
  /** redis://HOST:PORT: jobs' tests go to workers through BullMQ queues instead of running here. */
  queue?: string;
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
  if (options.queue) await checkReachable(options.queue);
  const queues = options.queue ? new QueueExecutors(options.queue) : undefined;
  const data = await openDataDir(options.dataDir, options.db);
  let server: ReturnType<typeof serve>;
  let jobs: Jobs;
  let outbox: Outbox | undefined;
  try {
    const tokensFile = join(data.dir, "tokens.yaml");
    if (!given && !existsSync(tokensFile)) {
      writeAdminTokens(tokensFile);
      say(`wrote an admin token to ${tokensFile}`);
    }
    const tokens = given ?? readTokens(tokensFile);
    // The outbox needs the listening address for its links; jobs finish only after jobs.start() below.
    const mailed = (id: string): Promise<MailOutcome> => outbox?.jobFinished(id, true) ?? Promise.resolve({ kind: "not-mailed", why: "the server is still starting" });
    jobs = new Jobs({
      data,
      roots,
      ...(options.allowUrls ? { allowUrls: options.allowUrls } : {}),
      maxJobs: options.maxJobs,
      ...(queues ? { executorFor: (job) => queues.forStages(stagesOf(job)) } : {}),
      ...(options.builds ? { builds: options.builds } : {}),
      ...(options.runs ? { runs: options.runs } : {}),
      onFinished: (id) => void outbox?.jobFinished(id).catch((err: unknown) => say(`report e-mail for job ${id}: ${err instanceof Error ? err.message : String(err)}`)),
    });
    const app = createApp({ store: data.store, blobs: data.blobs, jobs, tokens, mail: mailed });
    server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const s = serve({ fetch: app.fetch, port: options.port, hostname: options.host }, () => resolve(s));
      s.once("error", (err: NodeJS.ErrnoException) =>
        reject(err.code === "EADDRINUSE" ? new UserError(`port ${options.port} is in use`, "choose another with --port") : err),
      );
    });
  } catch (err) {
    await data.store.close();
    await queues?.close();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const url = `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
  outbox = new Outbox({
    dir: join(data.dir, "outbox"),
    store: data.store,
    baseUrl: options.publicUrl ?? url,
    from: options.mailFrom ?? `culprit <culprit@${hostname()}>`,
    ...(options.smtp ? { smtp: options.smtp } : {}),
    mailAll: options.mailAll ?? false,
  });
  await outbox.start();
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
      await queues?.close();
      await outbox?.stop();
      await data.store.close();
    },
  };
}
