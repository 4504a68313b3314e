// `culprit serve`: the bisection service (API, jobs run in-process, the store).

import type { Command } from "commander";
import { UserError } from "../core/errors.js";
import { DEFAULT_BUILDS, DEFAULT_RUNS } from "../server/jobs.js";
import { isRepoUrl } from "../git/mirror.js";
import { startServer } from "../server/serve.js";
import { defaultDataDir } from "../store/data.js";

interface ServeFlags {
  data?: string;
  db?: string;
  tokens?: string;
  root?: string[];
  allowUrl?: string[];
  port: string;
  host: string;
  maxJobs: string;
  builds: string;
  runs: string;
  smtp?: string;
  mailFrom?: string;
  mailAll?: boolean;
  publicUrl?: string;
  queue?: string;
}

export function wholeNumber(flag: string, value: string, min: number, command = "serve"): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError(`${flag} must be a whole number ≥ ${min}, got '${value}'`, `see culprit ${command} --help`);
  return n;
}

export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("run the bisection service: an HTTP API that takes jobs and runs them on this machine")
    .option("--data <dir>", "jobs' work dirs, logs, the SQLite store, tokens.yaml (default $XDG_DATA_HOME/culprit, else ~/.local/share/culprit)")
    .option("--db <url>", "a postgres:// URL to keep jobs and events in PostgreSQL instead of the data dir's SQLite file")
    .option("--tokens <file>", "callers' bearer tokens: a YAML list of {name, token, role: read|worker|submit|admin} (default DATA/tokens.yaml, made with one admin token)")
    .option("--root <dir...>", "directories whose repositories jobs may name (a job's repo must lie below one)")
    .option("--allow-url <prefix...>", "URL prefixes (https://, ssh://, file://) of repositories jobs may name by URL; the server clones them into DATA/mirrors")
    .option("--port <n>", "TCP port (0: any free one)", "8470")
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--max-jobs <n>", "jobs run at once", "2")
    .option("--builds <n>", "builds at once, across all jobs", String(DEFAULT_BUILDS))
    .option("--runs <n>", "test runs (processes, VMs) at once, across all jobs", String(DEFAULT_RUNS))
    .option("--smtp <url>", "smtp://HOST:PORT to send report e-mails through (they are written to DATA/outbox either way)")
    .option("--mail-from <addr>", "the From of report e-mails (default culprit@ this host)")
    .option("--mail-all", "mail unreliable results too (merge, no-op or release culprits, low confidence)")
    .option("--public-url <url>", "the server's address as readers of the e-mails reach it, for their links (default where it listens)")
    .option("--queue <url>", "redis://HOST:PORT: hand jobs' builds and runs to `culprit worker`s through BullMQ queues there (default: run them on this machine)")
    .action(async (flags: ServeFlags) => {
      const port = flags.port === "0" ? 0 : wholeNumber("--port", flags.port, 1);
      const maxJobs = wholeNumber("--max-jobs", flags.maxJobs, 1);
      const builds = wholeNumber("--builds", flags.builds, 1);
      const runs = wholeNumber("--runs", flags.runs, 1);
      if (flags.smtp !== undefined && !/^smtps?:\/\/[^/\s]+/.test(flags.smtp)) throw new UserError(`--smtp must be smtp://HOST:PORT, got '${flags.smtp}'`, "for example --smtp smtp://127.0.0.1:25");
      for (const prefix of flags.allowUrl ?? []) {
        if (!isRepoUrl(prefix)) throw new UserError(`--allow-url ${prefix} is not an https://, ssh:// or file:// URL`, "for example --allow-url https://github.com/torvalds/");
      }
      const say = (line: string): void => void process.stdout.write(`culprit serve: ${line}\n`);
      const server = await startServer({
        dataDir: flags.data ?? defaultDataDir(),
        ...(flags.db ? { db: flags.db } : {}),
        ...(flags.tokens ? { tokensFile: flags.tokens } : {}),
        roots: flags.root ?? [],
        ...(flags.allowUrl ? { allowUrls: flags.allowUrl } : {}),
        port,
        host: flags.host,
        maxJobs,
        builds,
        runs,
        say,
        ...(flags.smtp ? { smtp: flags.smtp } : {}),
        ...(flags.mailFrom ? { mailFrom: flags.mailFrom } : {}),
        mailAll: flags.mailAll ?? false,
        ...(flags.publicUrl ? { publicUrl: flags.publicUrl } : {}),
        ...(flags.queue ? { queue: flags.queue } : {}),
      });
      if (flags.queue) say(`builds and runs go to workers through ${flags.queue}`);
      say(`listening on ${server.url}`);
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          say("stopping; running jobs go on at the next start");
          void server.close().then(resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
