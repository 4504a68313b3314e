// A bisection result as the e-mail syzbot would send about it ("syzbot has bisected this issue
// to:"), and whether it is mailed at all: pure, so the table test pins both. The message is
// written whole (RFC 5322, CRLF) so the outbox holds exactly what is sent.

import type { BisectResult } from "../bisect/result.js";
import { DASHBOARD_CONFIDENCE_CUTOFF } from "../core/syzbot.js";
import type { StoredEvent } from "../store/store.js";

export interface ReportMailInput {
  jobId: string;
  result: BisectResult;
  /** The job's repository, as the mail's "git tree:" line. */
  repo: string;
  /** A correction marked the result invalid. */
  invalid: boolean;
  /** The server's address as people reach it: links are made under it. */
  baseUrl: string;
  /** Content key of a console log that showed the reported crash, if one was kept. */
  consoleLog?: string;
  from: string;
  /** The Date header: when the message is written. */
  date: Date;
}

export type MailDecision = { mail: true } | { mail: false; why: string };

/** A console log that showed the reported crash where it was reported (the culprit; a fix: the start commit): the mail's and the job page's link. */
export function crashConsoleLog(result: BisectResult, events: readonly StoredEvent[]): string | undefined {
  const commit = result.kind === "fix" ? result.start : result.culprit?.hash;
  const title = result.report?.title;
  const crashed = events.filter(
    (s) => s.log !== null && s.event.type === "run-finished" && s.event.commit === commit && s.event.outcome.kind === "crash" && (title === undefined || s.event.outcome.crash.title === title),
  );
  return crashed.at(-1)?.log ?? undefined;
}

/** Why syzbot's dashboard would not report this result; empty when it is a result worth a mail. */
export function doubts(result: BisectResult, invalid: boolean): string[] {
  if (invalid) return ["marked invalid"];
  if (result.outcome !== "culprit" || !result.culprit) return [result.outcome === "no-culprit" ? "no culprit" : result.outcome];
  const found: string[] = [];
  if (result.merge) found.push("a merge commit");
  if (result.noop) found.push("does not change the build");
  if (result.release) found.push("a release commit");
  if (result.confidence < DASHBOARD_CONFIDENCE_CUTOFF) found.push(`confidence ${result.confidence.toFixed(2)} < ${DASHBOARD_CONFIDENCE_CUTOFF}`);
  return found;
}

/** `force`: an admin asked (or --mail-all): doubtful results go out too, but never one with no culprit to name or nobody to send to. */
export function mailDecision(result: BisectResult, invalid: boolean, force: boolean): MailDecision {
  if (result.outcome !== "culprit" || !result.culprit) return { mail: false, why: doubts(result, false).join(", ") };
  if (result.recipients.to.length + result.recipients.cc.length === 0) return { mail: false, why: "no recipients" };
  const found = doubts(result, invalid);
  if (found.length > 0 && !force) return { mail: false, why: `unreliable: ${found.join(", ")}` };
  return { mail: true };
}

/** The 12-character hash syzbot's tags use. */
const short = (hash: string): string => hash.slice(0, 12);

/** RFC 2047 for a header value that is not plain ASCII (a crash title or an author's name may not be). */
function encodeWord(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
}

/** Long address lists folded after commas, so no header line passes 78 characters where it can help it. */
function addressHeader(name: string, addresses: readonly string[]): string {
  const lines: string[] = [];
  let line = `${name}:`;
  addresses.forEach((address, i) => {
    const item = ` ${address}${i < addresses.length - 1 ? "," : ""}`;
    if (line.length + item.length > 78 && line !== `${name}:`) {
      lines.push(line);
      line = "";
    }
    line += item;
  });
  lines.push(line);
  return lines.join("\r\n");
}

/** RFC 5322's date: "Thu, 03 Dec 2026 07:52:00 +0000". */
function rfc5322Date(date: Date): string {
  const days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const two = (n: number): string => String(n).padStart(2, "0");
  return `${days[date.getUTCDay()]}, ${two(date.getUTCDate())} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

/** The host part of the From address, for a Message-ID of our own. */
function domainOf(address: string): string {
  return /@([^>\s]+)>?\s*$/.exec(address)?.[1] ?? "culprit.invalid";
}

/** One id per job: a message about the same job is the same message (a resend is recognisable as one). */
export function messageId(jobId: string, from: string): string {
  return `<culprit-bisect-${jobId}@${domainOf(from)}>`;
}

export interface ReportMail {
  /** The envelope's recipients: To and Cc. */
  recipients: string[];
  /** The whole message, CRLF line ends. */
  text: string;
}

/** The message for a result that names a culprit (whether to send it is mailDecision's). */
export function composeReportMail(input: ReportMailInput): ReportMail {
  const { result, jobId } = input;
  const culprit = result.culprit;
  if (!culprit) throw new Error(`job ${jobId}: a report mail needs a culprit (outcome ${result.outcome})`);
  const base = input.baseUrl.replace(/\/+$/, "");
  const title = result.report?.title ?? "the crash";
  const fix = result.kind === "fix";
  const body: string[] = [
    fix ? "culprit suspects this issue was fixed by commit:" : "culprit has bisected this issue to:",
    "",
    `commit ${culprit.hash}`,
    `Author: ${culprit.author.name} <${culprit.author.email}>`,
    `Date:   ${culprit.date}`,
    "",
    `    ${culprit.title}`,
    "",
    `bisection log:  ${base}/api/jobs/${jobId}/log`,
    `start commit:   ${short(result.start)}`,
    `git tree:       ${input.repo}`,
    ...(input.consoleLog ? [`console output: ${base}/api/blobs/${input.consoleLog}`] : []),
    `job page:       ${base}/jobs/${jobId}`,
    "",
  ];
  const doubtful = doubts(result, input.invalid);
  if (doubtful.length > 0) body.push(`Note: this result may be unreliable (${doubtful.join(", ")}).`, "");
  if (fix) {
    body.push("If the result looks correct, please mark the issue as fixed.", "");
  } else {
    body.push(`Reported-by: ${input.from}`, `Fixes: ${short(culprit.hash)} ("${culprit.title}")`, "");
  }
  body.push(`confidence: ${result.confidence.toFixed(2)}, ${result.revisionsTested} revisions tested, ${result.runs} runs`);
  const { to, cc } = input.result.recipients;
  const headers = [
    `From: ${input.from}`,
    ...(to.length > 0 ? [addressHeader("To", to)] : []),
    ...(cc.length > 0 ? [addressHeader("Cc", cc)] : []),
    `Subject: ${encodeWord(`[culprit] ${title}`)}`,
    `Date: ${rfc5322Date(input.date)}`,
    `Message-ID: ${messageId(jobId, input.from)}`,
    "MIME-Version: 1.0",
    'Content-Type: text/plain; charset="UTF-8"',
    "Content-Transfer-Encoding: 8bit",
  ];
  return { recipients: [...to, ...cc], text: `${headers.join("\r\n")}\r\n\r\n${body.join("\r\n")}\r\n` };
}
