// `culprit submit`, `culprit jobs`, `culprit show`: thin clients of culprit serve's API.

import type { Command } from "commander";
import { readJobFile } from "../bisect/config.js";
import { call, follow, serverAddress } from "../server/client.js";

interface ServerFlags {
  server?: string;
  token?: string;
}

interface JobLine {
  id: string;
  status: string;
  kind: string;
  outcome: string | null;
  culprit: string | null;
  crashTitle: string | null;
  repo: string;
}

function withServer(command: Command): Command {
  return command
    .option("--server <url>", "culprit serve's address (default $CULPRIT_SERVER, else http://127.0.0.1:8470)")
    .option("--token <token>", "bearer token (default $CULPRIT_TOKEN)");
}

function line(job: JobLine): string {
  const answer = job.outcome === "culprit" && job.culprit ? job.culprit.slice(0, 12) : (job.outcome ?? "-");
  return [job.id, job.status.padEnd(11), job.kind.padEnd(5), answer.padEnd(12), job.crashTitle ?? ""].join("  ");
}

export function registerClient(program: Command): void {
  withServer(program.command("submit").description("send a job file to culprit serve").argument("<job>", "YAML job file (paths in it are resolved here)"))
    .option("--json", "print the job as the server answered")
    .action(async (file: string, flags: ServerFlags & { json?: boolean }) => {
      const server = serverAddress(flags);
      const { fields } = readJobFile(file);
      const { json, text } = await call(server, "POST", "/api/jobs", fields);
      const job = json as JobLine;
      process.stdout.write(flags.json ? `${text}\n` : `submitted job ${job.id} (${job.status})\n`);
    });

  withServer(program.command("jobs").description("list culprit serve's jobs, newest first"))
    .option("--status <status>", "queued, running, finished, failed, cancelled or interrupted")
    .option("--kind <kind>", "cause or fix")
    .option("--repo <dir>", "only this repository")
    .option("--crash <text>", "crash titles containing this text")
    .option("--limit <n>", "at most this many (default 100)")
    .option("--json", "print the server's answer")
    .action(async (flags: ServerFlags & { status?: string; kind?: string; repo?: string; crash?: string; limit?: string; json?: boolean }) => {
      const query = new URLSearchParams();
      for (const key of ["status", "kind", "repo", "crash", "limit"] as const) {
        const value = flags[key];
        if (value !== undefined) query.set(key, value);
      }
      const { json, text } = await call(serverAddress(flags), "GET", `/api/jobs${query.size > 0 ? `?${query}` : ""}`);
      if (flags.json) return void process.stdout.write(`${text}\n`);
      for (const job of (json as { jobs: JobLine[] }).jobs) process.stdout.write(`${line(job)}\n`);
    });

  withServer(program.command("show").description("one job of culprit serve: its state and its bisection log").argument("<id>", "the job's id"))
    .option("--json", "print the job (with its result and corrections) as JSON")
    .option("--follow", "print the log as it grows until the job stops (exit 0 when it named a culprit, else 1)")
    .action(async (id: string, flags: ServerFlags & { json?: boolean; follow?: boolean }) => {
      const server = serverAddress(flags);
      const path = `/api/jobs/${encodeURIComponent(id)}`;
      const { json, text } = await call(server, "GET", path);
      if (flags.json) return void process.stdout.write(`${text}\n`);
      const job = json as ShownJob;
      process.stdout.write(header(job));
      if (!flags.follow) return void process.stdout.write(`\n${(await call(server, "GET", `${path}/log`)).text}`);
      process.stdout.write("\n");
      await follow(server, `${path}/events`, (message) => {
        if (message.event === "event") for (const l of (JSON.parse(message.data) as { lines: string[] }).lines) process.stdout.write(`${l}\n`);
      });
      const after = (await call(server, "GET", path)).json as ShownJob;
      process.stdout.write(`\n${header(after)}`);
      process.exitCode = after.status === "finished" && after.outcome === "culprit" ? 0 : 1;
    });
}

type ShownJob = JobLine & { verdict: { culprit: string | null; source: string; correction?: { by: string; reason: string } }; error: string | null };

function header(job: ShownJob): string {
  const v = job.verdict;
  const corrected = v.correction ? `corrected by ${v.correction.by}: ${v.source === "invalid" ? "result marked invalid" : `culprit ${v.culprit}`} (${v.correction.reason})\n` : "";
  return `${line(job)}\nrepo: ${job.repo}\n${job.error ? `error: ${job.error}\n` : ""}${corrected}`;
}
