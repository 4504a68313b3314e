// The API's and the pages' gate: a bearer token in the Authorization header, or (for GET
// requests only, so a page can be read and followed in a browser) the same token in a cookie.
// A cookie never authorizes a change: a form on another site cannot act for a signed-in user.

import type { Context, MiddlewareHandler } from "hono";
import { getCookie } from "hono/cookie";
import { authorize, type Access, type Caller, type Role, type TokenEntry } from "./access.js";

export type Env = { Variables: { caller: Caller } };

export const TOKEN_COOKIE = "culprit_token";

export function accessOf(c: Context<Env>, tokens: readonly TokenEntry[], role: Role): Access {
  const header = c.req.header("authorization");
  const cookie = c.req.method === "GET" && header === undefined ? getCookie(c, TOKEN_COOKIE) : undefined;
  return authorize(tokens, header ?? (cookie !== undefined ? `Bearer ${cookie}` : undefined), role);
}

/** Lets the request on with its caller set, or answers 401/403 with one sentence. */
export function need(tokens: readonly TokenEntry[], role: Role): MiddlewareHandler<Env> {
  return async (c, next) => {
    const access = accessOf(c, tokens, role);
    if (access.kind === "denied") return c.json({ error: access.reason }, access.status);
    c.set("caller", access.caller);
    await next();
  };
}
