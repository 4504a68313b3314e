// The API as the CLI's client commands call it: one request, the answer as JSON, the server's
// one-sentence error as a UserError.

import { UserError } from "../core/errors.js";

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

export async function call(server: ServerAddress, method: "GET" | "POST", path: string, body?: unknown): Promise<{ json?: unknown; text: string }> {
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
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const said = json && typeof json === "object" && "error" in json ? String((json as { error: unknown }).error) : `HTTP ${response.status}`;
    const hint = response.status === 401 ? "give a token with --token or $CULPRIT_TOKEN" : undefined;
    throw new UserError(`${server.url}: ${said}`, hint);
  }
  return { json, text };
}
