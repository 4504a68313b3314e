// culprit serve as a process on a loopback socket, driven by culprit submit, jobs and show (--follow).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { generateHistory } from "../demo/history.js";
import { simpleHistory } from "../bisect/testkit.js";
import { processesIn, repeatsIn } from "../bisect/chaoskit.js";
import { loadEvents } from "../bisect/events.js";
import { Store } from "../store/store.js";
import { call, follow } from "./client.js";
import { adminToken, MAIN, startServe } from "./servekit.js";
import { jobFields } from "./testkit.js";

const run = promisify(execFile);

describe("culprit serve on a socket", () => {
  it("refuses bad flags with one line and exit 2, before writing anything", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-serve-"));
    try {
      const data = join(dir, "data");
      const cases: [string[], RegExp][] = [
        [["--builds", "0"], /^culprit: --builds must be a whole number ≥ 1, got '0'/],
        [["--runs", "many"], /^culprit: --runs must be a whole number ≥ 1, got 'many'/],
        [["--allow-url", "ftp://example.org/"], /^culprit: --allow-url ftp:\/\/example\.org\/ is not an https:\/\/, ssh:\/\/ or file:\/\/ URL/],
        [["--root", join(dir, "missing")], /^culprit: .*missing/],
      ];
      for (const [flags, said] of cases) {
        await assert.rejects(run(process.execPath, [MAIN, "serve", "--data", data, "--port", "0", ...flags]), (err: { code: number; stderr: string }) => {
          assert.equal(err.code, 2, flags.join(" "));
          assert.match(err.stderr, said);
          assert.equal(err.stderr.trimEnd().split("\n").length, 1, "one line");
          return true;
        });
      }
      assert.deepEqual(await readdir(dir), [], "no data dir made");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("takes a job from culprit submit, runs it, and culprit jobs / show report it; stops on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-serve-"));
    const root = join(dir, "repos");
    await mkdir(root);
    const data = join(dir, "data");
    const server = await startServe(data, root);
    try {
      const url = server.url;
      assert.match(server.said, /wrote an admin token to .*tokens\.yaml/);
      const env = { ...process.env, CULPRIT_SERVER: url, CULPRIT_TOKEN: await adminToken(data) };

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
      process.kill(server.pid, "SIGTERM");
      assert.deepEqual(await server.exited, { code: 0, signal: null });
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("killed with SIGKILL mid-job and started again: the job goes on, no build repeated, nothing left running, store and work dir equal", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-serve-"));
    const root = join(dir, "repos");
    await mkdir(root);
    const data = join(dir, "data");
    let server = await startServe(data, root);
    try {
      const history = await generateHistory(join(root, "project"), simpleHistory(40, { culprit: 26 }));
      const token = await adminToken(data);
      const submitted = await call({ url: server.url, token }, "POST", "/api/jobs", jobFields(history));
      const id = (submitted.json as { id: string }).id;
      let tested = 0;
      const killed = server.pid;
      await follow({ url: server.url, token }, `/api/jobs/${id}/events`, (message) => {
        if (message.event === "event" && (JSON.parse(message.data) as { event: { type: string } }).event.type === "tests-finished" && ++tested === 2) {
          process.kill(killed, "SIGKILL");
        }
      }).catch(() => undefined); // the stream dies with the server
      assert.ok(tested >= 2, "killed mid-job, not after it ended");
      assert.equal((await server.exited).signal, "SIGKILL");

      server = await startServe(data, root);
      const ends: string[] = [];
      await follow({ url: server.url, token }, `/api/jobs/${id}/events`, (message) => {
        if (message.event === "end") ends.push(message.data);
      });
      assert.deepEqual(ends, [JSON.stringify({ status: "finished" })]);
      const job = (await call({ url: server.url, token }, "GET", `/api/jobs/${id}`)).json as { culprit: string };
      assert.equal(job.culprit, history.culprit, "the answer of an uninterrupted run");
      process.kill(server.pid, "SIGTERM");
      assert.equal((await server.exited).code, 0);

      const workDir = join(data, "jobs", id);
      const text = await readFile(join(workDir, "events.jsonl"), "utf8");
      assert.deepEqual(repeatsIn(text), { repeatedBuilds: [], reusedRunIndices: [] });
      assert.ok(loadEvents(text).events.filter((e) => e.type === "started").length >= 2, "it was resumed, not restarted");
      assert.deepEqual(processesIn(workDir), []);
      const store = await Store.open(join(data, "culprit.sqlite"));
      try {
        assert.deepEqual(
          (await store.events(id)).map((e) => e.event),
          loadEvents(text).events,
        );
      } finally {
        await store.close();
      }
    } finally {
      // Still running only when a check above failed.
      try {
        process.kill(server.pid, "SIGTERM");
      } catch {
        // already stopped
      }
      await server.exited;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
