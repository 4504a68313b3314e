// `culprit worker`: carries out the builds and runs a `culprit serve --queue` hands out, on this machine.

import { homedir, hostname } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import type { Command } from "commander";
import { workerName } from "../bisect/events.js";
import { durationField } from "../core/durationField.js";
import { UserError } from "../core/errors.js";
import { checkReachable, connectionOf, isCapability, type Capability } from "../queue/queues.js";
import { ServerClient } from "../queue/serverClient.js";
import { WorkerMachine } from "../queue/workerMachine.js";
import { serverAddress } from "../server/client.js";
import { wholeNumber } from "./serve.js";

interface WorkerFlags {
  server?: string;
  queue?: string;
  token?: string;
  name?: string;
  capabilities: string;
  builds: string;
  runs: string;
  cache?: string;
  lockDuration: string;
}

/** $XDG_CACHE_HOME/culprit/worker, else ~/.cache/culprit/worker. */
function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env["XDG_CACHE_HOME"] && isAbsolute(env["XDG_CACHE_HOME"]) ? env["XDG_CACHE_HOME"] : join(homedir(), ".cache");
  return join(base, "culprit", "worker");
}

export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description("build and run, on this machine, the tests a `culprit serve --queue` hands out")
    .option("--server <url>", "culprit serve's address (default $CULPRIT_SERVER, else http://127.0.0.1:8470)")
    .option("--queue <url>", "redis://HOST:PORT: the Redis the server was started with (--queue)")
    .option("--token <token>", "a bearer token with the worker role (default $CULPRIT_TOKEN)")
    .option("--name <name>", "how the server's pages and the facts name this worker (default HOST:PID)")
    .option("--capabilities <list>", "what this machine can do: generic, linux-build, qemu (comma-separated)", "generic")
    .option("--builds <n>", "requests (each at most one build) carried out at once", "1")
    .option("--runs <n>", "runs at once within a request, at most", "4")
    .option("--lock-duration <duration>", "how long a request stays this worker's without a sign of life (a killed worker's requests go to another after about this long)", "30s")
    .option("--cache <dir>", "repositories, build cache and logs of this machine (default $XDG_CACHE_HOME/culprit/worker)")
    .action(async (flags: WorkerFlags) => {
      if (!flags.queue) throw new UserError("culprit worker needs --queue redis://HOST:PORT", "give the Redis the server was started with");
      connectionOf(flags.queue);
      const capabilities = flags.capabilities.split(",").map((c) => c.trim());
      const unknown = capabilities.filter((c) => !isCapability(c));
      if (unknown.length > 0 || capabilities.length === 0) throw new UserError(`unknown capability '${unknown.join(",")}'`, "choose from generic, linux-build, qemu");
      const name = flags.name ?? `${hostname()}:${process.pid}`;
      if (!workerName.safeParse(name).success) throw new UserError(`--name must be 1-100 letters, digits or . _ : @ -, got '${name}'`, "for example --name build-3");
      const builds = wholeNumber("--builds", flags.builds, 1, "worker");
      const runs = wholeNumber("--runs", flags.runs, 1, "worker");
      const lock = durationField.safeParse(flags.lockDuration);
      if (!lock.success || lock.data < 1000) throw new UserError(`--lock-duration must be a duration of 1s or more, got '${flags.lockDuration}'`, "for example --lock-duration 30s");
      // Looked for twice per lock: a dead worker's request waits at most 1.5 locks.
      const stallTiming = { lockDurationMs: lock.data, stalledIntervalMs: Math.round(lock.data / 2) };
      const address = serverAddress(flags);
      if (!address.token) throw new UserError("culprit worker needs a token with the worker role", "give --token or set $CULPRIT_TOKEN");
      const server = new ServerClient(address.url, address.token);
      await server.checkAccess();
      await checkReachable(flags.queue);
      const say = (line: string): void => void process.stdout.write(`culprit worker: ${line}\n`);
      const machine = new WorkerMachine({
        server,
        name,
        redisUrl: flags.queue,
        capabilities: capabilities as Capability[],
        builds,
        runs,
        cacheDir: resolve(flags.cache ?? defaultCacheDir()),
        stallTiming,
      });
      await machine.start();
      say(`taking ${capabilities.join(", ")} requests from ${flags.queue} for ${address.url} (${builds} at once) as ${name}`);
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          // A second signal ends the process at once: its requests stall and go to another worker.
          process.once("SIGINT", () => process.exit(130));
          process.once("SIGTERM", () => process.exit(143));
          say("stopping: finishing the requests in hand (signal again to leave them to another worker)");
          void machine.close().then(done);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
