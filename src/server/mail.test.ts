// Report e-mails: what is mailed and what is not (a table), the message syzbot's way, and the
// outbox sending to a real SMTP server process on loopback, retrying one that refuses.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { RecordedEvent } from "../bisect/events.js";
import { simpleHistory } from "../bisect/testkit.js";
import { generateHistory } from "../demo/history.js";
import type { BisectResult } from "../bisect/result.js";
import { openDataDir, type DataDir } from "../store/data.js";
import { resultColumns } from "../store/summary.js";
import { composeReportMail, mailDecision } from "./mail.js";
import { call, follow } from "./client.js";
import { Outbox, envelopeRecipients } from "./outbox.js";
import { jobFields } from "./testkit.js";

const CULPRIT_HASH = "0c4b2a8e1c5c7a8b9d0e1f2a3b4c5d6e7f8a9b0c";
const START = "3dbdb38e286903ec220aaf1fb29a8d94297da246";
const CONSOLE = "ab".repeat(32);

function result(over: Partial<BisectResult> = {}): BisectResult {
  return {
    kind: "cause",
    outcome: "culprit",
    strategy: "culprit",
    start: START,
    culprit: {
      hash: CULPRIT_HASH,
      title: "block: free the queue later",
      author: { name: "Zoë Example", email: "zoe@example.org" },
      date: "Tue Mar 2 10:04:05 2021 +0100",
      message: "block: free the queue later\n\nSigned-off-by: Zoë Example <zoe@example.org>\n",
      diffstat: " block/blk-mq.c | 2 +-",
      parents: ["1".repeat(40)],
      releaseTags: [],
    },
    candidates: [],
    noop: false,
    merge: false,
    release: false,
    confidence: 0.97,
    revisionsTested: 14,
    builds: 14,
    cachedBuilds: 0,
    runs: 140,
    time: { totalMs: 1, buildMs: 1, testMs: 1 },
    recipients: { to: ["zoe@example.org", "axboe@kernel.dk"], cc: ["linux-block@vger.kernel.org"] },
    report: { title: "general protection fault in blk_mq_run_hw_queues", type: "gpf", text: "general protection fault" },
    workDir: "/nowhere",
    ...over,
  };
}

describe("which results are mailed", () => {
  const rows: [string, BisectResult, boolean, boolean, boolean][] = [
    // name, result, invalid, force (--mail-all or an admin), mailed
    ["a culprit", result(), false, false, true],
    ["inconclusive", result({ outcome: "inconclusive", culprit: undefined }), false, false, false],
    ["inconclusive, even when asked: there is no commit to name", result({ outcome: "inconclusive", culprit: undefined }), false, true, false],
    ["no culprit", result({ outcome: "no-culprit", reason: "not-reproduced", culprit: undefined }), false, true, false],
    ["a merge commit", result({ merge: true }), false, false, false],
    ["a no-op commit", result({ noop: true }), false, false, false],
    ["a release commit", result({ release: true }), false, false, false],
    ["low confidence", result({ confidence: 0.5 }), false, false, false],
    ["low confidence, asked", result({ confidence: 0.5 }), false, true, true],
    ["marked invalid", result(), true, false, false],
    ["marked invalid, asked by an admin", result(), true, true, true],
    ["nobody to send to", result({ recipients: { to: [], cc: [] } }), false, true, false],
  ];
  for (const [name, r, invalid, force, mailed] of rows) {
    it(name, () => assert.equal(mailDecision(r, invalid, force).mail, mailed));
  }
  it("says why a result is not mailed", () => {
    assert.deepEqual(mailDecision(result({ merge: true, confidence: 0.5 }), false, false), { mail: false, why: "unreliable: a merge commit, confidence 0.50 < 0.66" });
  });
});

const mailInput = {
  jobId: "job-1",
  repo: "/src/linux",
  invalid: false,
  baseUrl: "http://127.0.0.1:8470/",
  consoleLog: CONSOLE,
  from: "culprit <culprit@bisect.example>",
  date: new Date(Date.UTC(2026, 11, 3, 7, 52, 0)),
};

/** Headers (unfolded) and body of a message. */
function parse(text: string): { headers: Map<string, string>; body: string } {
  const split = text.indexOf("\r\n\r\n");
  const headers = new Map<string, string>();
  for (const line of text.slice(0, split).replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    headers.set(line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim());
  }
  return { headers, body: text.slice(split + 4) };
}

describe("the report mail", () => {
  it("is syzbot's cause bisection mail: the commit, the links, Reported-by and Fixes", () => {
    const mail = composeReportMail({ ...mailInput, result: result() });
    const { headers, body } = parse(mail.text);
    assert.equal(headers.get("from"), "culprit <culprit@bisect.example>");
    assert.equal(headers.get("to"), "zoe@example.org, axboe@kernel.dk");
    assert.equal(headers.get("cc"), "linux-block@vger.kernel.org");
    assert.equal(headers.get("subject"), "[culprit] general protection fault in blk_mq_run_hw_queues");
    assert.equal(headers.get("date"), "Thu, 03 Dec 2026 07:52:00 +0000");
    assert.equal(headers.get("message-id"), "<culprit-bisect-job-1@bisect.example>");
    assert.equal(headers.get("content-type"), 'text/plain; charset="UTF-8"');
    assert.deepEqual(mail.recipients, ["zoe@example.org", "axboe@kernel.dk", "linux-block@vger.kernel.org"]);
    assert.equal(
      body,
      [
        "culprit has bisected this issue to:",
        "",
        `commit ${CULPRIT_HASH}`,
        "Author: Zoë Example <zoe@example.org>",
        "Date:   Tue Mar 2 10:04:05 2021 +0100",
        "",
        "    block: free the queue later",
        "",
        "bisection log:  http://127.0.0.1:8470/api/jobs/job-1/log",
        "start commit:   3dbdb38e2869",
        "git tree:       /src/linux",
        `console output: http://127.0.0.1:8470/api/blobs/${CONSOLE}`,
        "job page:       http://127.0.0.1:8470/jobs/job-1",
        "",
        "Reported-by: culprit <culprit@bisect.example>",
        'Fixes: 0c4b2a8e1c5c ("block: free the queue later")',
        "",
        "confidence: 0.97, 14 revisions tested, 140 runs",
        "",
      ].join("\r\n"),
    );
    assert.ok(mail.text.split("\r\n").every((line) => !line.includes("\n") && line.length <= 998));
  });

  it("a fix bisection suspects the commit and suggests no Fixes tag; a doubtful result says so", () => {
    const { body } = parse(composeReportMail({ ...mailInput, result: result({ kind: "fix", merge: true }) }).text);
    assert.match(body, /^culprit suspects this issue was fixed by commit:\r\n/);
    assert.match(body, /Note: this result may be unreliable \(a merge commit\)\./);
    assert.doesNotMatch(body, /Fixes:|Reported-by:/);
  });

  it("encodes a title that is not ASCII and folds a long To", () => {
    const many = Array.from({ length: 8 }, (_, i) => `maintainer${i}@subsystem.example.org`);
    const mail = composeReportMail({ ...mailInput, result: result({ report: { title: "KASAN: use-after-free in café_open", type: "kasan", text: "" }, recipients: { to: many, cc: [] } }) });
    const { headers } = parse(mail.text);
    assert.equal(headers.get("subject"), `=?UTF-8?B?${Buffer.from("[culprit] KASAN: use-after-free in café_open").toString("base64")}?=`);
    assert.equal(headers.get("cc"), undefined);
    const head = mail.text.slice(0, mail.text.indexOf("\r\n\r\n"));
    const to = head.split("\r\n").filter((line) => line.startsWith("To:") || line.startsWith(" "));
    assert.equal(to.length, 4, head);
    assert.ok(to.every((line) => line.length <= 78), head);
    assert.deepEqual(envelopeRecipients(mail.text), many);
  });
});

const SINK = fileURLToPath(new URL("./smtp-sink.js", import.meta.url));

/** A real SMTP server in its own process on loopback, saving what it accepts under `dir`. */
async function smtpSink(dir: string, refuse = 0): Promise<{ url: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [SINK, dir, String(refuse)], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const port = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    void exited.then(() => reject(new Error(`smtp sink exited: ${out}`)));
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

async function finishedJob(data: DataDir, id: string, r: BisectResult): Promise<void> {
  await data.store.insertJob({ id, status: "finished", kind: r.kind, repo: "/src/linux", strategy: r.strategy, crashTitle: r.report?.title ?? null, job: "{}", workDir: "/nowhere", submittedBy: "ci", retryOf: null });
  await data.store.updateJob(id, resultColumns(r));
  if (!r.culprit || !r.report) return;
  const crashed: RecordedEvent = {
    v: 2,
    job: id,
    seq: 0,
    type: "run-finished",
    at: 1,
    request: "r1",
    commit: r.culprit.hash,
    remedies: [],
    index: 0,
    outcome: { kind: "crash", crash: { title: r.report.title, alt: [], type: r.report.type, frame: "blk_mq_run_hw_queues" } },
    durationMs: 1,
    log: CONSOLE,
  };
  await data.store.appendEvents(id, [{ event: crashed, log: CONSOLE }]);
}

/** Resolves once `dir` holds `count` files ending in `suffix` (polling the disk the sink writes to). */
async function filesIn(dir: string, suffix: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const names = (await readdir(dir)).filter((n) => n.endsWith(suffix)).sort();
    if (names.length >= count) return names;
    if (Date.now() > deadline) throw new Error(`${dir} holds ${names.length} of ${count} ${suffix} files after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the outbox and a real SMTP server", () => {
  it("writes one message per job result, sends it, retries a refusal, and never writes it twice", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-mail-"));
    const received = join(dir, "received");
    const outboxDir = join(dir, "outbox");
    await mkdir(received);
    // The first delivery is refused with 451: the message must stay and go out on the retry.
    const sink = await smtpSink(received, 1);
    const data = await openDataDir(join(dir, "data"));
    const warnings: string[] = [];
    const options = { dir: outboxDir, store: data.store, baseUrl: "http://127.0.0.1:8470", from: "culprit <culprit@bisect.example>", smtp: sink.url, retryDelaysMs: [10], warn: (l: string) => void warnings.push(l) };
    let outbox = new Outbox(options);
    try {
      await outbox.start();
      await finishedJob(data, "job-good", result());
      await finishedJob(data, "job-merge", result({ merge: true }));
      await finishedJob(data, "job-inconclusive", result({ outcome: "inconclusive", culprit: undefined }));

      assert.deepEqual(await outbox.jobFinished("job-merge"), { kind: "not-mailed", why: "unreliable: a merge commit" });
      assert.deepEqual(await outbox.jobFinished("job-inconclusive"), { kind: "not-mailed", why: "inconclusive" });
      assert.equal((await outbox.jobFinished("job-good")).kind, "written");
      // Refused once: it waits in the outbox with its attempt counted.
      assert.ok(existsSync(join(outboxDir, "job-good.eml")));
      assert.equal((JSON.parse(await readFile(join(outboxDir, "job-good.attempts.json"), "utf8")) as { attempts: number }).attempts, 1);

      // A restarted server finds it and sends it; the job's result is not written again.
      await outbox.stop();
      outbox = new Outbox(options);
      await outbox.start();
      assert.equal((await outbox.jobFinished("job-good")).kind, "exists");
      // An admin asks for the merge's mail.
      assert.equal((await outbox.jobFinished("job-merge", true)).kind, "written");

      const names = await filesIn(received, ".eml", 2);
      const messages = await Promise.all(names.map(async (n) => ({ text: await readFile(join(received, n), "utf8"), envelope: JSON.parse(await readFile(join(received, n.replace(".eml", ".json")), "utf8")) as { from: string; to: string[] } })));
      const good = messages.find((m) => m.text.includes("Message-ID: <culprit-bisect-job-good@bisect.example>"));
      assert.ok(good, messages.map((m) => m.text).join("\n---\n"));
      assert.deepEqual(good.envelope, { from: "culprit@bisect.example", to: ["zoe@example.org", "axboe@kernel.dk", "linux-block@vger.kernel.org"] });
      const { headers, body } = parse(good.text);
      assert.equal(headers.get("to"), "zoe@example.org, axboe@kernel.dk");
      assert.equal(headers.get("cc"), "linux-block@vger.kernel.org");
      assert.equal(headers.get("subject"), "[culprit] general protection fault in blk_mq_run_hw_queues");
      assert.match(body, /^culprit has bisected this issue to:\r\n\r\ncommit 0c4b2a8e1c5c7a8b9d0e1f2a3b4c5d6e7f8a9b0c\r\nAuthor: Zoë Example <zoe@example.org>\r\n/);
      assert.match(body, new RegExp(`console output: http://127\\.0\\.0\\.1:8470/api/blobs/${CONSOLE}\r\n`));
      assert.match(body, /Fixes: 0c4b2a8e1c5c \("block: free the queue later"\)/);
      const merge = messages.find((m) => m.text.includes("culprit-bisect-job-merge@"));
      assert.match(merge?.text ?? "", /this result may be unreliable \(a merge commit\)/);

      await outbox.flush();
      assert.deepEqual((await readdir(join(outboxDir, "sent"))).sort(), ["job-good.eml", "job-merge.eml"]);
      assert.deepEqual((await readdir(outboxDir)).filter((n) => n !== "sent" && n !== "failed"), []);
      assert.deepEqual(warnings, []);
    } finally {
      await outbox.stop();
      await sink.stop();
      await data.store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives up after the last retry and leaves the message in failed/", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-mail-"));
    const data = await openDataDir(join(dir, "data"));
    const warnings: string[] = [];
    // Nothing listens on this port: every attempt fails.
    const outbox = new Outbox({ dir: join(dir, "outbox"), store: data.store, baseUrl: "http://127.0.0.1:8470", from: "culprit@bisect.example", smtp: "smtp://127.0.0.1:1", retryDelaysMs: [0], warn: (l) => void warnings.push(l) });
    try {
      await outbox.start();
      await finishedJob(data, "job-1", result());
      assert.equal((await outbox.jobFinished("job-1")).kind, "written");
      await outbox.flush();
      assert.ok(existsSync(join(dir, "outbox", "failed", "job-1.eml")));
      assert.equal((JSON.parse(await readFile(join(dir, "outbox", "failed", "job-1.attempts.json"), "utf8")) as { attempts: number }).attempts, 2);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0] as string, /mail about job job-1 not sent after 2 attempts/);
    } finally {
      await outbox.stop();
      await data.store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

describe("culprit serve --smtp", () => {
  it("mails a finished job's result to the culprit's people once; an admin's request does not mail it again", async () => {
    const dir = await mkdtemp(join(tmpdir(), "culprit-mail-"));
    const received = join(dir, "received");
    const root = join(dir, "repos");
    const data = join(dir, "data");
    await mkdir(received);
    await mkdir(root);
    const sink = await smtpSink(received);
    const server = spawn(process.execPath, [MAIN, "serve", "--data", data, "--root", root, "--port", "0", "--max-jobs", "1", "--smtp", sink.url, "--mail-from", "culprit <bot@bisect.example>", "--public-url", "https://bisect.example/"], { stdio: ["ignore", "pipe", "inherit"] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => server.once("exit", (code, signal) => resolve({ code, signal })));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let said = "";
        server.stdout.on("data", (chunk: Buffer) => {
          said += chunk.toString();
          const m = /listening on (http:\/\/\S+)/.exec(said);
          if (m) resolve(m[1] as string);
        });
        void exited.then(() => reject(new Error(`culprit serve exited: ${said}`)));
      });
      const [admin] = parseYaml(await readFile(join(data, "tokens.yaml"), "utf8")) as { token: string }[];
      const server_ = { url, token: admin?.token as string };
      const history = await generateHistory(join(root, "project"), simpleHistory(16, { culprit: 10 }));
      const id = ((await call(server_, "POST", "/api/jobs", jobFields(history))).json as { id: string }).id;
      let ended = "";
      await follow(server_, `/api/jobs/${id}/events`, (message) => {
        if (message.event === "end") ended = message.data;
      });
      assert.match(ended, /finished/, JSON.stringify((await call(server_, "GET", `/api/jobs/${id}`)).json));

      const [name] = await filesIn(received, ".eml", 1);
      const text = await readFile(join(received, name as string), "utf8");
      const envelope = JSON.parse(await readFile(join(received, (name as string).replace(".eml", ".json")), "utf8")) as { from: string; to: string[] };
      const job = (await call(server_, "GET", `/api/jobs/${id}`)).json as { result: string | { recipients: { to: string[]; cc: string[] } } };
      const result = (typeof job.result === "string" ? JSON.parse(job.result) : job.result) as BisectResult;
      assert.equal(envelope.from, "bot@bisect.example");
      assert.deepEqual(envelope.to, [...result.recipients.to, ...result.recipients.cc]);
      assert.ok(envelope.to.length > 0);
      const { headers, body } = parse(text);
      assert.equal(headers.get("from"), "culprit <bot@bisect.example>");
      assert.equal(headers.get("subject"), `[culprit] ${result.report?.title as string}`);
      assert.equal(headers.get("message-id"), `<culprit-bisect-${id}@bisect.example>`);
      assert.match(body, new RegExp(`^culprit has bisected this issue to:\r\n\r\ncommit ${history.culprit as string}\r\n`));
      assert.match(body, new RegExp(`bisection log:  https://bisect\\.example/api/jobs/${id}/log\r\n`));
      assert.match(body, /console output: https:\/\/bisect\.example\/api\/blobs\/[0-9a-f]{64}\r\n/);
      assert.match(body, new RegExp(`job page:       https://bisect\\.example/jobs/${id}\r\n`));
      assert.match(body, new RegExp(`Fixes: ${(history.culprit as string).slice(0, 12)} \\("`));
      // The console log link leads to a run's log (the demo's runs print little: only that it is served).
      const consoleKey = /api\/blobs\/([0-9a-f]{64})/.exec(body)?.[1] as string;
      assert.equal((await fetch(`${url}/api/blobs/${consoleKey}`, { headers: { authorization: `Bearer ${server_.token}` } })).status, 200);

      // An admin's request finds the message written; a reader may not ask.
      assert.deepEqual((await call(server_, "POST", `/api/jobs/${id}/mail`)).json, { outcome: "exists", message: `${id}.eml` });
      const refused = await fetch(`${url}/api/jobs/${id}/mail`, { method: "POST", headers: { authorization: "Bearer read-token-that-is-unknown" } });
      assert.equal(refused.status, 401);
      assert.deepEqual((await readdir(received)).filter((n) => n.endsWith(".eml")), [name]);
      // The sink saves a message before it answers; the server moves it to sent/ once answered.
      assert.deepEqual(await filesIn(join(data, "outbox", "sent"), ".eml", 1), [`${id}.eml`]);
    } finally {
      server.kill("SIGTERM");
      assert.deepEqual(await exited, { code: 0, signal: null });
      await sink.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
