// culprit serve as a process on a loopback socket, driven by culprit submit, jobs and show (--follow).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";
import { generateHistory } from "../demo/history.js";
import { simpleHistory } from "../bisect/testkit.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));
const run = promisify(execFile);

describe("culprit serve on a socket", () => {
  it("takes a job from culprit submit, runs it, and culprit jobs / show report it; stops on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-serve-"));
    const root = join(dir, "repos");
    await mkdir(root);
    const data = join(dir, "data");
    const server = spawn(process.execPath, [MAIN, "serve", "--data", data, "--root", root, "--port", "0", "--max-jobs", "1"], { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => server.once("exit", (code) => resolve(code)));
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1] as string);
        });
        void exited.then(() => reject(new Error(`culprit serve exited: ${out}`)));
      });
      assert.match(out, /wrote an admin token to .*tokens\.yaml/);
      const [admin] = parseYaml(await readFile(join(data, "tokens.yaml"), "utf8")) as { token: string }[];
      const env = { ...process.env, CULPRIT_SERVER: url, CULPRIT_TOKEN: admin?.token };

      const history = await generateHistory(join(root, "project"), simpleHistory(24, { culprit: 15 }));
      const jobFile = join(dir, "job.yaml");
      const job = [
        "repo: repos/project",
        `good: ${history.main[0]}`,
        "build: { command: [make, -s, demo], artifacts: [demo], timeout: 2m }",
        "reproducer: { command: [demo], timeout: 20s }",
        "runs: 2",
        "startRuns: 2",
      ];
      await writeFile(jobFile, job.join("\n") + "\n");
      const submitted = await run(process.execPath, [MAIN, "submit", jobFile], { env });
      const id = /^submitted job ([0-9a-f-]{36}) \(queued\)$/m.exec(submitted.stdout)?.[1];
      assert.ok(id, submitted.stdout);

      // Followed live over the socket until it ends.
      const followed = await run(process.execPath, [MAIN, "show", id, "--follow"], { env });
      assert.match(followed.stdout, new RegExp(`^${history.culprit} is the first bad commit$`, "m"));
      assert.match(followed.stdout, /\n\S+  finished\s+cause\s+[0-9a-f]{12}  fatal signal SIGSEGV\nrepo: .*\n$/, "ends with the job's final state");

      const listed = await run(process.execPath, [MAIN, "jobs", "--status", "finished"], { env });
      assert.match(listed.stdout, new RegExp(`^${id}  finished\\s+cause\\s+${(history.culprit as string).slice(0, 12)}  fatal signal SIGSEGV$`, "m"));
      const shown = await run(process.execPath, [MAIN, "show", id], { env });
      assert.match(shown.stdout, new RegExp(`^${history.culprit} is the first bad commit$`, "m"));

      // A client's mistakes: one line, exit 2.
      await assert.rejects(run(process.execPath, [MAIN, "jobs"], { env: { ...env, CULPRIT_TOKEN: "" } }), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /^culprit: http:\/\/.*: this needs a bearer token .*\n$/);
        return true;
      });
      await assert.rejects(run(process.execPath, [MAIN, "jobs", "--status", "done"], { env }), (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /^culprit: .*status.*\n$/);
        return true;
      });
    } finally {
      server.kill("SIGTERM");
      assert.equal(await exited, 0);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
