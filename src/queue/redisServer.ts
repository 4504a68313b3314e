// A private Redis for tests and benchmarks: Debian's redis-server on a free loopback port, its
// files in a temp dir (no snapshot of another instance is read or overwritten), stopped and
// removed by stop(). It fails loudly when it cannot start: a queue test never skips itself.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const REDIS_SERVER = "/usr/bin/redis-server";
const READY = "Ready to accept connections";
const START_TIMEOUT_MS = 20_000;

export interface RedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  /** Kills it (SIGKILL, as a crash would) and starts it again on the same port and files. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisOptions {
  /** Append-only file on: a restart keeps what was written (as a production Redis for BullMQ should). */
  persist?: boolean;
}

/** A loopback port nobody listens on now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

function launch(dir: string, port: number, persist: boolean): Promise<ChildProcess> {
  const argv = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", persist ? "yes" : "no", "--appendfsync", "always", "--daemonize", "no", "--protected-mode", "yes"];
  const child = spawn(REDIS_SERVER, argv, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`not ready after ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`cannot start redis-server on port ${port}: ${err.message}\n${output.slice(-2000)}`));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(READY)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stdout?.resume();
        child.stderr?.resume();
        child.off("exit", onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null): void => fail(new Error(`exited with ${code}`));
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", fail);
    child.once("exit", onExit);
  });
}

async function ended(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  await exited;
}

export async function startRedis(options: RedisOptions = {}): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`Redis is not installed (no ${REDIS_SERVER}): run bash scripts/setup`);
  const dir = await mkdtemp(join(tmpdir(), "culprit-redis-"));
  const persist = options.persist ?? false;
  let port = 0;
  let child: ChildProcess | undefined;
  // Another process may take the probed port before redis binds it: try a few.
  for (let attempt = 0; !child; attempt++) {
    port = await freePort();
    try {
      child = await launch(dir, port, persist);
    } catch (err) {
      if (attempt >= 2) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let current: ChildProcess = child;
  return {
    url: `redis://127.0.0.1:${port}`,
    async restart() {
      await ended(current, "SIGKILL");
      current = await launch(dir, port, persist);
    },
    async stop() {
      try {
        await ended(current, "SIGTERM");
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
