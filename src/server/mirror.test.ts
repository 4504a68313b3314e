// Jobs that name their repository by URL: refused unless the server allows the URL's prefix;
// otherwise cloned once into DATA/mirrors, fetched again by the next job, and bisected as a
// repository below a root would be.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { simpleHistory } from "../bisect/testkit.js";
import { generateHistory, type GeneratedHistory } from "../demo/history.js";
import { git } from "../git/git.js";
import { sseMessages } from "./sse.js";
import { auth, harness, jobFields, type Harness } from "./testkit.js";

describe("a job naming its repository by URL", () => {
  let remotes: string;
  let history: GeneratedHistory;
  let url: string;
  let h: Harness;
  before(async () => {
    remotes = await mkdtemp(join(tmpdir(), "culprit-remotes-"));
    history = await generateHistory(join(remotes, "project"), simpleHistory(12, { culprit: 7 }));
    url = `file://${history.dir}`;
    h = await harness({ allowUrls: [`file://${remotes}/`] });
  });
  after(async () => {
    await h?.cleanup();
    await rm(remotes, { recursive: true, force: true });
  });

  const submit = (fields: Record<string, unknown>): Promise<Response> =>
    Promise.resolve(h.app.request("/api/jobs", { method: "POST", headers: { "content-type": "application/json", ...auth("submit") }, body: JSON.stringify(fields) }));

  async function refused(fields: Record<string, unknown>, said: RegExp): Promise<void> {
    const response = await submit(fields);
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: string };
    assert.match(error, said);
    assert.doesNotMatch(error, /\n/);
    assert.deepEqual(await h.data.store.counts(), { jobs: 0, events: 0, builds: 0, corrections: 0, workers: 0 }, "nothing stored");
    assert.deepEqual(await readdir(h.data.jobsDir).catch(() => []), []);
    // A clone that failed leaves nothing aside.
    assert.deepEqual((await readdir(join(h.data.dir, "mirrors")).catch(() => [])).filter((name) => name.startsWith(".clone-")), []);
  }

  it("is refused, with one sentence and nothing stored, when the URL is not below an allowed prefix or cannot be fetched", async () => {
    await refused(jobFields(history, { repo: "file:///srv/elsewhere/project" }), /^repo file:\/\/\/srv\/elsewhere\/project is not below a URL this server allows \(allowed: file:\/\/\/tmp\/.*\/\)$/);
    await refused(jobFields(history, { repo: `file://${remotes}-evil/project` }), /is not below a URL this server allows/);
    await refused(jobFields(history, { repo: `file://${remotes}/../etc` }), /is not a plain URL/);
    await refused(jobFields(history, { repo: `file://${remotes}/missing` }), /^cannot fetch file:\/\/.*\/missing: .*does not appear to be a git repository/);
  });

  it("is cloned into the data dir's mirrors, bisected to the culprit, and fetched again for the next job", async () => {
    const first = await submit(jobFields(history, { repo: url }));
    assert.equal(first.status, 201);
    const job = (await first.json()) as { id: string; repo: string; job: { repo: string } };
    assert.equal(job.job.repo, url, "the job keeps its URL: a retry fetches it again");
    assert.match(job.repo, new RegExp(`^${join(h.data.dir, "mirrors")}/project-[0-9a-f]{12}$`));
    const stream = sseMessages(await (await h.app.request(`/api/jobs/${job.id}/events`, { headers: auth("read") })).text());
    assert.deepEqual(JSON.parse(stream.at(-1)?.data ?? ""), { status: "finished" });
    assert.equal((await h.data.store.job(job.id))?.culprit, history.culprit);

    // A branch made upstream after the clone: only a fetch finds it.
    await git(history.dir, ["branch", "later", history.main[10] as string]);
    const second = await submit(jobFields(history, { repo: url, start: "later" }));
    assert.equal(second.status, 201, await second.clone().text());
    assert.equal(((await second.json()) as { repo: string }).repo, job.repo, "the same mirror");
    assert.deepEqual((await readdir(join(h.data.dir, "mirrors"))).length, 1);
  });
});
