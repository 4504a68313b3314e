// The API called in-process: who may do what, what is refused (and then nothing is stored),
// and a job on a generated repository from submission to corrected result.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadEvents } from "../bisect/events.js";
import { bisectInProcess, scratchHistory, simpleHistory, type Scratch } from "../bisect/testkit.js";
import { generateHistory, type GeneratedHistory } from "../demo/history.js";
import { MAX_BODY_BYTES } from "./app.js";
import { sseMessages } from "./sse.js";
import { auth, harness, harnessOn, jobFields, type Harness } from "./testkit.js";

const post = (h: Harness, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  Promise.resolve(
    h.app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" || body instanceof ReadableStream ? body : JSON.stringify(body),
      ...(body instanceof ReadableStream ? { duplex: "half" } : {}),
    }),
  );

/** A body streamed in 8 KiB pieces, so no length is known before it is read. */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.subarray(at, (at += 8192)));
    },
  });
}

/** A small YAML document whose aliases name 10^9 nodes: the "billion laughs". */
function aliasBomb(): string {
  const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 10; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(", ")}]`);
  return lines.join("\n") + "\n";
}
const get = (h: Harness, path: string, headers: Record<string, string> = auth("read")): Promise<Response> => Promise.resolve(h.app.request(path, { headers }));

async function errorOf(response: Response): Promise<string> {
  const body = (await response.json()) as { error: string };
  assert.equal(typeof body.error, "string");
  assert.doesNotMatch(body.error, /\n/, "one sentence, one line");
  return body.error;
}

/** Follows a job's live event stream until it ends; returns the messages. */
async function follow(h: Harness, id: string, after?: number): Promise<ReturnType<typeof sseMessages>> {
  const response = await get(h, `/api/jobs/${id}/events${after !== undefined ? `?after=${after}` : ""}`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /text\/event-stream/);
  return sseMessages(await response.text());
}

for (const name of ["sqlite", "postgres"] as const) {
describe(`culprit serve's API on ${name}`, () => {
  let h: Harness;
  let history: GeneratedHistory;
  before(async () => {
    h = await harnessOn(name);
    history = await generateHistory(join(h.root, "project"), simpleHistory(30, { culprit: 20 }));
  });
  after(async () => h?.cleanup());

  /** Nothing in the store, no work dir: what every refused request must leave. */
  async function assertNothingStored(): Promise<void> {
    assert.deepEqual(await h.data.store.counts(), { jobs: 0, events: 0, builds: 0, corrections: 0, workers: 0 });
    assert.deepEqual(await readdir(h.data.jobsDir).catch(() => []), []);
  }

  describe("refuses, with one sentence and nothing stored", () => {
    const cases: [string, () => Promise<Response>, number, RegExp][] = [
      ["no token", () => post(h, "/api/jobs", jobFields(history)), 401, /bearer token/],
      ["an unknown token", () => post(h, "/api/jobs", jobFields(history), { authorization: "Bearer not-a-token-of-ours" }), 401, /unknown token/],
      ["a read token submitting", () => post(h, "/api/jobs", jobFields(history), auth("read")), 403, /needs the submit role; reader has read/],
      ["a repository outside the roots", () => post(h, "/api/jobs", jobFields(history, { repo: "/tmp" }), auth("submit")), 400, /outside the server's repository roots/],
      ["a root reached through ..", () => post(h, "/api/jobs", jobFields(history, { repo: `${h.root}/../data` }), auth("submit")), 400, /outside|does not exist/],
      ["a relative repository", () => post(h, "/api/jobs", jobFields(history, { repo: "project" }), auth("submit")), 400, /must be an absolute path/],
      ["malformed YAML", () => post(h, "/api/jobs", "repo: [unclosed", auth("submit")), 400, /not valid YAML or JSON/],
      ["a list instead of a mapping", () => post(h, "/api/jobs", "[1, 2]", auth("submit")), 400, /mapping of fields/],
      ["an unknown field", () => post(h, "/api/jobs", { ...jobFields(history), bulid: {} }, auth("submit")), 400, /unknown field bulid \(did you mean build\?\)/],
      ["a wrong type", () => post(h, "/api/jobs", jobFields(history, { runs: "many" }), auth("submit")), 400, /runs must be a whole number, got 'many'/],
      ["a work dir chosen by the job", () => post(h, "/api/jobs", jobFields(history, { workDir: "/etc" }), auth("submit")), 400, /workDir is chosen by the server/],
      ["a start that does not exist", () => post(h, "/api/jobs", jobFields(history, { start: "no-such-branch" }), auth("submit")), 400, /no-such-branch/],
      ["a huge body", () => post(h, "/api/jobs", { ...jobFields(history), padding: "x".repeat(MAX_BODY_BYTES) }, auth("submit")), 413, /larger than/],
      ["a huge body sent in chunks, with no length given", () => post(h, "/api/jobs", chunked(JSON.stringify({ ...jobFields(history), padding: "x".repeat(4 * MAX_BODY_BYTES) })), auth("submit")), 413, /larger than/],
      ["malformed JSON", () => post(h, "/api/jobs", '{"repo": "/x", "runs": ', auth("submit")), 400, /not valid YAML or JSON/],
      ["YAML whose aliases would expand without end", () => post(h, "/api/jobs", aliasBomb(), auth("submit")), 400, /not valid YAML or JSON/],
      ["an unknown field inside a section", () => post(h, "/api/jobs", jobFields(history, { build: { comand: ["make"], artifacts: ["demo"] } }), auth("submit")), 400, /comand/],
      ["a repository URL on a server that takes none", () => post(h, "/api/jobs", jobFields(history, { repo: "https://example.org/project.git" }), auth("submit")), 400, /is a URL and this server takes none/],
      ["a read token cancelling", () => post(h, "/api/jobs/00000000-0000-4000-8000-000000000009/cancel", {}, auth("read")), 403, /needs the submit role/],
      ["a submit token correcting", () => post(h, "/api/jobs/00000000-0000-4000-8000-000000000009/invalid", { reason: "flaky" }, auth("submit")), 403, /needs the admin role/],
      ["an unknown list filter", () => get(h, "/api/jobs?colour=red"), 400, /unknown query parameter colour/],
      ["a wrong status filter", () => get(h, "/api/jobs?status=done"), 400, /status/],
      ["a job that is not there", () => get(h, "/api/jobs/00000000-0000-0000-0000-000000000000"), 404, /no job/],
      ["a malformed job id", () => get(h, "/api/jobs/..%2F..%2Fetc"), 404, /no job/],
      ["a blob that is not there", () => get(h, `/api/blobs/${"0".repeat(64)}`), 404, /no blob/],
      ["an unknown endpoint", () => get(h, "/api/nothing"), 404, /no such endpoint/],
    ];
    for (const [name, request, status, said] of cases) {
      it(name, async () => {
        const response = await request();
        assert.equal(response.status, status);
        assert.match(await errorOf(response), said);
        await assertNothingStored();
      });
    }
  });

  describe("a job from submission to corrected result", () => {
    let cli: Scratch;
    let id: string;
    before(async () => {
      cli = await scratchHistory(simpleHistory(30, { culprit: 20 }));
    });
    after(async () => cli.cleanup());

    it("is queued, runs, streams its events live and ends with the culprit the CLI names on the same history", async () => {
      const response = await post(h, "/api/jobs", jobFields(history), auth("submit"));
      assert.equal(response.status, 201);
      const job = (await response.json()) as { id: string; status: string; submittedBy: string };
      id = job.id;
      assert.equal(job.submittedBy, "submitter");
      const messages = await follow(h, id);
      const end = messages.at(-1);
      assert.equal(end?.event, "end");
      assert.deepEqual(JSON.parse(end?.data ?? ""), { status: "finished" });
      const events = messages.filter((m) => m.event === "event").map((m) => JSON.parse(m.data) as { event: { seq: number; type: string }; lines: string[] });
      assert.deepEqual(
        events.map((e) => e.event.seq),
        events.map((_, i) => i),
        "every event once, in order",
      );
      assert.ok(events.some((e) => e.lines.some((l) => /is the first bad commit$/.test(l))), "the log's lines travel with the events");
      const shown = (await (await get(h, `/api/jobs/${id}`)).json()) as { status: string; outcome: string; culprit: string; crashTitle: string; result: { culprit: { hash: string } } };
      const { result } = await bisectInProcess(cli, { runs: 2, startRuns: 2, good: cli.history.main[0] });
      assert.equal(result.outcome, "culprit");
      assert.equal(shown.status, "finished");
      assert.equal(shown.outcome, result.outcome);
      assert.equal(result.culprit?.hash, cli.history.culprit);
      assert.equal(shown.culprit, history.culprit);
      assert.equal(shown.result.culprit.hash, history.culprit);
      assert.equal(shown.crashTitle, "fatal signal SIGSEGV");
    });

    it("holds the same stamped events in the store as in the job's work dir", async () => {
      const row = await h.data.store.job(id);
      const onDisk = loadEvents(await readFile(join(row?.workDir as string, "events.jsonl"), "utf8"));
      assert.equal(onDisk.job, id, "the log carries the server's job id");
      assert.deepEqual(
        (await h.data.store.events(id)).map((s) => s.event),
        onDisk.events,
      );
    });

    it("streams from a sequence number on, and serves the log and each run's console output", async () => {
      const rest = (await follow(h, id, 5)).filter((m) => m.event === "event");
      assert.equal(rest[0]?.id, "6");
      const log = await (await get(h, `/api/jobs/${id}/log`)).text();
      assert.match(log, new RegExp(`^${history.culprit} is the first bad commit$`, "m"));
      const run = (await h.data.store.events(id)).find((s) => s.event.type === "run-finished" && s.log);
      const blob = await get(h, `/api/blobs/${run?.log as string}`);
      assert.equal(blob.status, 200);
    });

    it("lists and filters it", async () => {
      const list = async (query: string): Promise<string[]> => ((await (await get(h, `/api/jobs${query}`)).json()) as { jobs: { id: string }[] }).jobs.map((j) => j.id);
      assert.deepEqual(await list(""), [id]);
      assert.deepEqual(await list("?status=finished&kind=cause"), [id]);
      assert.deepEqual(await list(`?repo=${encodeURIComponent(history.dir)}`), [id]);
      assert.deepEqual(await list("?crash=sigsegv"), [id]);
      assert.deepEqual(await list("?crash=KASAN"), []);
      assert.deepEqual(await list("?status=running"), []);
    });

    it("takes corrections from admins only, each with a reason; the newest decides", async () => {
      assert.equal((await post(h, `/api/jobs/${id}/invalid`, { reason: "flaky" }, auth("submit"))).status, 403);
      const noReason = await post(h, `/api/jobs/${id}/invalid`, { reason: " " }, auth("admin"));
      assert.equal(noReason.status, 400);
      assert.match(await errorOf(noReason), /reason/);
      const unknownCommit = await post(h, `/api/jobs/${id}/culprit`, { commit: "deadbeef", reason: "bisected by hand" }, auth("admin"));
      assert.equal(unknownCommit.status, 400);
      assert.match(await errorOf(unknownCommit), /commit deadbeef is not in/);
      assert.equal((await h.data.store.counts()).corrections, 0);
      const invalid = await post(h, `/api/jobs/${id}/invalid`, { reason: "the reproducer is flaky" }, auth("admin"));
      assert.equal(invalid.status, 201);
      assert.deepEqual(((await invalid.json()) as { verdict: { source: string } }).verdict.source, "invalid");
      const byHand = history.main[21] as string;
      const set = await post(h, `/api/jobs/${id}/culprit`, { commit: byHand.slice(0, 12), reason: "reverting it fixes the crash" }, auth("admin"));
      assert.equal(set.status, 201);
      const shown = (await (await get(h, `/api/jobs/${id}`)).json()) as { verdict: { culprit: string; source: string; correction: { by: string } }; corrections: unknown[] };
      assert.deepEqual([shown.verdict.culprit, shown.verdict.source, shown.verdict.correction.by], [byHand, "hand", "admin"]);
      assert.equal(shown.corrections.length, 2);
    });

    it("retries as a new attempt and cancels it, which frees its slot", async () => {
      assert.equal((await post(h, `/api/jobs/${id}/retry`, {}, auth("read"))).status, 403);
      const retried = await post(h, `/api/jobs/${id}/retry`, {}, auth("submit"));
      assert.equal(retried.status, 201);
      const attempt = (await retried.json()) as { id: string; retryOf: string; job: { start: string } };
      assert.equal(attempt.retryOf, id);
      assert.equal(attempt.job.start, history.head, "the start the first attempt resolved, not HEAD again");
      const cancelled = await post(h, `/api/jobs/${attempt.id}/cancel`, {}, auth("submit"));
      assert.equal(cancelled.status, 200);
      assert.equal(((await cancelled.json()) as { status: string }).status, "cancelled");
      const again = await post(h, `/api/jobs/${attempt.id}/cancel`, {}, auth("submit"));
      assert.equal(again.status, 409);
      assert.match(await errorOf(again), /is cancelled already/);
      const messages = await follow(h, attempt.id);
      assert.deepEqual(JSON.parse(messages.at(-1)?.data ?? ""), { status: "cancelled" });
    });
  });
});
}

describe("a live event stream", () => {
  // Without the comment the read below would wait forever: the timeout turns that into a failure.
  it("says it is still there while a job is silent", { timeout: 30_000 }, async () => {
    const h = await harness({ keepaliveMs: 5 });
    try {
      // A job some other server runs: this one only streams what the store gets.
      await h.data.store.insertJob({ id: "00000000-0000-4000-8000-000000000001", status: "running", kind: "cause", repo: "/r", strategy: "culprit", job: "{}", workDir: "/w" });
      const response = await get(h, "/api/jobs/00000000-0000-4000-8000-000000000001/events");
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let text = "";
      while (!text.includes(": still running\n\n")) {
        const chunk = await reader.read();
        assert.equal(chunk.done, false, "the stream stays open");
        text += new TextDecoder().decode(chunk.value);
      }
      await reader.cancel();
    } finally {
      await h.cleanup();
    }
  });
});
