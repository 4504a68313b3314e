// Report e-mails on disk, then over SMTP: a finished job's message is written once to
// OUTBOX/JOB.eml (an exclusive link, so a restart or a second call cannot write it again), sent
// when an SMTP server is configured, moved to sent/ once accepted, retried with growing delays
// while it is refused and moved to failed/ after the last attempt. The files are the queue, so a
// restarted server goes on where it stopped.

import { existsSync } from "node:fs";
import { link, mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createTransport, type Transporter } from "nodemailer";
import type { BisectResult } from "../bisect/result.js";
import type { Store } from "../store/store.js";
import { corrected } from "../store/summary.js";
import { composeReportMail, crashConsoleLog, mailDecision } from "./mail.js";

export interface OutboxOptions {
  dir: string;
  store: Store;
  /** The server's address as people reach it, for the links in a message. */
  baseUrl: string;
  /** The From address, "Name <addr>" or "addr". */
  from: string;
  /** smtp://HOST:PORT; without it messages stay in the outbox. */
  smtp?: string;
  /** Mail inconclusive-looking (unreliable) results too. */
  mailAll?: boolean;
  /** Delays before each further attempt; one attempt more than there are delays, then failed/. */
  retryDelaysMs?: readonly number[];
  warn?: (line: string) => void;
  now?: () => Date;
}

export type MailOutcome =
  | { kind: "written"; file: string }
  /** A message about this job was written before (it may be sent, pending or failed). */
  | { kind: "exists"; file: string }
  | { kind: "not-mailed"; why: string };

/** What the outbox remembers about a message it could not send yet. */
interface Attempts {
  attempts: number;
  nextAt: number;
  lastError: string;
}

const DEFAULT_DELAYS_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000] as const;

/** The bare address of "Name <addr>" or "addr". */
export function bareAddress(address: string): string {
  return (/<([^>]+)>/.exec(address)?.[1] ?? address).trim();
}

/** The To and Cc addresses of a message this module wrote (unfolded headers, comma-separated). */
export function envelopeRecipients(text: string): string[] {
  const head = (text.split("\r\n\r\n")[0] ?? "").replace(/\r\n[ \t]+/g, " ");
  return head
    .split("\r\n")
    .filter((line) => /^(to|cc):/i.test(line))
    .flatMap((line) => line.slice(line.indexOf(":") + 1).split(","))
    .map((a) => bareAddress(a))
    .filter((a) => a.length > 0);
}

export class Outbox {
  private readonly transport: Transporter | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxOptions) {
    this.transport = options.smtp ? createTransport(options.smtp) : undefined;
  }

  private get delays(): readonly number[] {
    return this.options.retryDelaysMs ?? DEFAULT_DELAYS_MS;
  }

  private now(): number {
    return (this.options.now?.() ?? new Date()).getTime();
  }

  private file(id: string, where: "" | "sent" | "failed" = ""): string {
    return join(this.options.dir, where, `${id}.eml`);
  }

  /** Sends what an earlier run left in the outbox. */
  async start(): Promise<void> {
    await mkdir(join(this.options.dir, "sent"), { recursive: true });
    await mkdir(join(this.options.dir, "failed"), { recursive: true });
    await this.flush();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.flushing;
    this.transport?.close();
  }

  /** Called when a job has finished (and by an admin: `force` mails a doubtful result too). */
  async jobFinished(id: string, force = false): Promise<MailOutcome> {
    const row = await this.options.store.job(id);
    if (!row?.result) return { kind: "not-mailed", why: "no result" };
    for (const where of ["", "sent", "failed"] as const) {
      if (existsSync(this.file(id, where))) return { kind: "exists", file: this.file(id, where) };
    }
    const result = JSON.parse(row.result) as BisectResult;
    const invalid = corrected(row.culprit, await this.options.store.corrections(id)).source === "invalid";
    const decision = mailDecision(result, invalid, force || (this.options.mailAll ?? false));
    if (!decision.mail) return { kind: "not-mailed", why: decision.why };
    const consoleLog = crashConsoleLog(result, await this.options.store.events(id));
    const mail = composeReportMail({
      jobId: id,
      result,
      repo: row.repo,
      invalid,
      baseUrl: this.options.baseUrl,
      ...(consoleLog ? { consoleLog } : {}),
      from: this.options.from,
      date: new Date(this.now()),
    });
    // Written beside and linked into place: link refuses an existing name, so it is written once.
    const draft = join(this.options.dir, `.${id}.draft`);
    await writeFile(draft, mail.text);
    try {
      await link(draft, this.file(id));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return { kind: "exists", file: this.file(id) };
      throw err;
    } finally {
      await rm(draft, { force: true });
    }
    await this.flush();
    return { kind: "written", file: this.file(id) };
  }

  /** Tries every message whose time has come; one flush at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.sendDue()).catch((err: unknown) => this.warn(`outbox: ${err instanceof Error ? err.message : String(err)}`));
    return this.flushing;
  }

  private async sendDue(): Promise<void> {
    if (!this.transport || this.stopped) return;
    const pending = (await readdir(this.options.dir)).filter((name) => name.endsWith(".eml") && !name.startsWith("."));
    let next = Infinity;
    for (const name of pending) {
      const id = name.slice(0, -".eml".length);
      const stateFile = join(this.options.dir, `${id}.attempts.json`);
      const state: Attempts = existsSync(stateFile) ? (JSON.parse(await readFile(stateFile, "utf8")) as Attempts) : { attempts: 0, nextAt: 0, lastError: "" };
      if (state.nextAt > this.now()) {
        next = Math.min(next, state.nextAt);
        continue;
      }
      const text = await readFile(this.file(id), "utf8");
      try {
        await this.transport.sendMail({ envelope: { from: bareAddress(this.options.from), to: envelopeRecipients(text) }, raw: text });
        await rename(this.file(id), this.file(id, "sent"));
        await rm(stateFile, { force: true });
      } catch (err) {
        const delay = this.delays[state.attempts];
        const lastError = err instanceof Error ? err.message : String(err);
        if (delay === undefined) {
          await rename(this.file(id), this.file(id, "failed"));
          await writeFile(join(this.options.dir, "failed", `${id}.attempts.json`), JSON.stringify({ ...state, attempts: state.attempts + 1, lastError }));
          await rm(stateFile, { force: true });
          this.warn(`mail about job ${id} not sent after ${state.attempts + 1} attempts (${lastError}): left in ${this.file(id, "failed")}`);
        } else {
          const nextAt = this.now() + delay;
          await writeFile(stateFile, JSON.stringify({ attempts: state.attempts + 1, nextAt, lastError } satisfies Attempts));
          next = Math.min(next, nextAt);
        }
      }
    }
    if (next !== Infinity && !this.stopped) {
      clearTimeout(this.timer);
      // The server's lifetime is not held up by a mail waiting for its retry.
      this.timer = setTimeout(() => void this.flush(), Math.max(0, next - this.now())).unref();
    }
  }

  private warn(line: string): void {
    (this.options.warn ?? ((l: string) => process.stderr.write(`culprit serve: ${l}\n`)))(line);
  }
}
