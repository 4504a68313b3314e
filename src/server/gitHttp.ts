// A job's repository over git's smart HTTP, read-only: workers on other machines fetch the
// commits they build from the server instead of needing a copy of their own. git's own
// `git http-backend` speaks the protocol (spawned with argv and a CGI environment, no shell);
// this file only carries the request in and the answer out. Only git-upload-pack (fetch) is
// served; pushing is never routed here.

import { spawn } from "node:child_process";
import { Readable } from "node:stream";

/** What of an HTTP request git http-backend needs. */
export interface GitHttpRequest {
  method: "GET" | "POST";
  /** "/info/refs" or "/git-upload-pack". */
  pathInfo: string;
  query: string;
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
}

/** Serves one smart-HTTP request for fetching from `repoDir`. */
export async function gitUploadPack(repoDir: string, request: GitHttpRequest): Promise<Response> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    GIT_PROJECT_ROOT: repoDir,
    GIT_HTTP_EXPORT_ALL: "1",
    PATH_INFO: request.pathInfo,
    QUERY_STRING: request.query,
    REQUEST_METHOD: request.method,
    CONTENT_TYPE: request.headers.get("content-type") ?? "",
    // A worker fetches the commit a request names, which no ref may point at; the repository is the job's own.
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "uploadpack.allowAnySHA1InWant",
    GIT_CONFIG_VALUE_0: "true",
    GIT_CONFIG_KEY_1: "safe.directory",
    GIT_CONFIG_VALUE_1: "*",
  };
  const encoding = request.headers.get("content-encoding");
  if (encoding) env["HTTP_CONTENT_ENCODING"] = encoding;
  const protocol = request.headers.get("git-protocol");
  if (protocol) env["GIT_PROTOCOL"] = protocol;
  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-2000)));
  child.stdin.on("error", () => undefined);
  if (request.body) Readable.fromWeb(request.body as import("node:stream/web").ReadableStream<Uint8Array>).pipe(child.stdin);
  else child.stdin.end();
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));

  // The CGI answer: header lines, an empty line, then the body as git writes it.
  const stdout = child.stdout[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let end = -1;
  while (end < 0) {
    const next = await stdout.next();
    if (next.done) {
      await exited;
      return new Response(`git http-backend gave no answer: ${stderr.trim().split("\n").at(-1) ?? ""}`, { status: 500 });
    }
    head = Buffer.concat([head, next.value]);
    end = head.indexOf("\r\n\r\n");
    if (end < 0 && head.indexOf("\n\n") >= 0) end = head.indexOf("\n\n");
  }
  const separator = head[end] === 0x0d ? 4 : 2;
  const headers = new Headers();
  let status = 200;
  for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.append(name, value);
  }
  const rest = head.subarray(end + separator);
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (rest.length > 0) controller.enqueue(new Uint8Array(rest));
    },
    async pull(controller) {
      const next = await stdout.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value));
    },
    cancel() {
      child.kill("SIGKILL");
    },
  });
  return new Response(body, { status, headers });
}
