// `culprit serve` as a real process on a loopback socket, for the tests that drive it from outside
// (the CLI's submit / jobs / show, a browser).

import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";

export const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

export interface ServeProcess {
  url: string;
  /** What it printed before it listened. */
  said: string;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `culprit serve` on a free loopback port, once it listens; one job at a time. */
/** `db`: a PostgreSQL URL; without it the data dir's SQLite file. */
export async function startServe(data: string, root: string, db?: string): Promise<ServeProcess> {
  const server = spawn(process.execPath, [MAIN, "serve", "--data", data, "--root", root, "--port", "0", "--max-jobs", "1", ...(db ? ["--db", db] : [])], { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => server.once("exit", (code, signal) => resolve({ code, signal })));
  let said = "";
  const url = await new Promise<string>((resolve, reject) => {
    // A refusal comes on stderr: kept with the rest for the error below.
    server.stderr.on("data", (chunk: Buffer) => void (said += chunk.toString()));
    server.stdout.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(said);
      if (m) resolve(m[1] as string);
    });
    void exited.then(() => reject(new Error(`culprit serve exited: ${said}`)));
  });
  return { url, said, pid: server.pid as number, exited };
}

/** The admin token a first start wrote to DATA/tokens.yaml. */
export async function adminToken(data: string): Promise<string> {
  const [admin] = parseYaml(await readFile(join(data, "tokens.yaml"), "utf8")) as { token: string }[];
  return admin?.token as string;
}
