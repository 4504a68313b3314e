// The API as the CLI's client commands call it: one request, the answer as JSON, the server's
// one-sentence error as a UserError.

import { UserError } from "../core/errors.js";
import { SseReader, type SseMessage } from "./sse.js";

export interface ServerAddress {
  url: string;
  token?: string;
}

export const DEFAULT_SERVER = "http://127.0.0.1:8470";

/** --server and --token, else $CULPRIT_SERVER and $CULPRIT_TOKEN. */
export function serverAddress(flags: { server?: string; token?: string }, env: NodeJS.ProcessEnv = process.env): ServerAddress {
  const url = flags.server ?? env["CULPRIT_SERVER"] ?? DEFAULT_SERVER;
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UserError(`--server must be an http:// or https:// URL, got '${url}'`);
  const token = flags.token ?? env["CULPRIT_TOKEN"];
  return { url: url.replace(/\/+$/, ""), ...(token ? { token } : {}) };
}

async function request(server: ServerAddress, method: "GET" | "POST", path: string, body?: unknown): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(server.token ? { authorization: `Bearer ${server.token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    throw new UserError(`cannot reach ${server.url}: ${cause}`, "is culprit serve running there? Set --server or $CULPRIT_SERVER");
  }
  if (!response.ok) {
    const text = await response.text();
    let said = `HTTP ${response.status}`;
    try {
      const json = JSON.parse(text) as { error?: unknown };
      if (json.error !== undefined) said = String(json.error);
    } catch {
      // not the API's JSON: the status says it
    }
    throw new UserError(`${server.url}: ${said}`, response.status === 401 ? "give a token with --token or $CULPRIT_TOKEN" : undefined);
  }
  return response;
}

export async function call(server: ServerAddress, method: "GET" | "POST", path: string, body?: unknown): Promise<{ json?: unknown; text: string }> {
  const text = await (await request(server, method, path, body)).text();
  try {
    return { json: JSON.parse(text) as unknown, text };
  } catch {
    return { text };
  }
}

/** Reads an event stream, handing each message over as it arrives, until the server ends it. */
export async function follow(server: ServerAddress, path: string, onMessage: (message: SseMessage) => void): Promise<void> {
  const response = await request(server, "GET", path);
  const reader = new SseReader();
  const decoder = new TextDecoder();
  for await (const chunk of response.body as ReadableStream<Uint8Array>) {
    for (const message of reader.push(decoder.decode(chunk, { stream: true }))) onMessage(message);
  }
}
