// Who may do what: bearer tokens with roles from a file, and which repositories a job may name.
// Roles are ordered: read < worker < submit < admin. The submit role runs the job's build and
// reproducer commands on the server's machine, as the server's user: give it only to people who
// may. The worker role is a worker machine's: it reads a job's settings and the repository, and
// uploads logs and artifacts by content key; it cannot submit, cancel or correct.

import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UserError } from "../core/errors.js";

export const ROLES = ["read", "worker", "submit", "admin"] as const;
export type Role = (typeof ROLES)[number];

export interface Caller {
  name: string;
  role: Role;
}

const tokensSchema = z
  .array(
    z
      .object({
        name: z.string().min(1),
        token: z.string().min(16),
        role: z.enum(ROLES),
      })
      .strict(),
  )
  .min(1);

export type TokenEntry = z.infer<typeof tokensSchema>[number];

export function parseTokens(text: string, file: string): TokenEntry[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    throw new UserError(`tokens file ${file} is not valid YAML`, "write a list of {name, token, role}");
  }
  const parsed = tokensSchema.safeParse(doc);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new UserError(`tokens file ${file}${at}: ${issue?.message ?? "invalid"}`, "write a list of {name, token, role}, role one of read, worker, submit, admin, tokens of 16 characters or more");
  }
  const seen = new Set<string>();
  for (const t of parsed.data) {
    if (seen.has(t.token)) throw new UserError(`tokens file ${file} gives the same token twice`, "give each caller its own token");
    seen.add(t.token);
  }
  return parsed.data;
}

export function readTokens(file: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new UserError(`cannot read tokens file ${file}`, "check the path given to --tokens");
  }
  return parseTokens(text, file);
}

/** A tokens file with one admin token, readable by its owner only: what a first `culprit serve` writes. */
export function writeAdminTokens(file: string): string {
  const token = randomBytes(24).toString("base64url");
  writeFileSync(file, `# culprit serve's callers: name, token, role (read, worker, submit or admin)\n- name: admin\n  token: ${token}\n  role: admin\n`, { mode: 0o600, flag: "wx" });
  return token;
}

const digest = (text: string): Buffer => createHash("sha256").update(text).digest();

export type Access = { kind: "allowed"; caller: Caller } | { kind: "denied"; status: 401 | 403; reason: string };

/** The caller of an Authorization header, and whether its role covers `needed`. */
export function authorize(tokens: readonly TokenEntry[], header: string | undefined, needed: Role): Access {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match) return { kind: "denied", status: 401, reason: "this needs a bearer token (Authorization: Bearer TOKEN)" };
  // Compared as digests of equal length, in time that does not depend on where they differ.
  const given = digest(match[1] as string);
  const entry = tokens.find((t) => timingSafeEqual(digest(t.token), given));
  if (!entry) return { kind: "denied", status: 401, reason: "unknown token" };
  if (ROLES.indexOf(entry.role) < ROLES.indexOf(needed)) return { kind: "denied", status: 403, reason: `this needs the ${needed} role; ${entry.name} has ${entry.role}` };
  return { kind: "allowed", caller: { name: entry.name, role: entry.role } };
}

/** Roots as the server compares them: real paths, so a symbolic link cannot lead outside. */
export function realRoots(roots: readonly string[]): string[] {
  return roots.map((root) => {
    try {
      return realpathSync(resolve(root));
    } catch {
      throw new UserError(`repository root ${root} does not exist`, "give existing directories to --root");
    }
  });
}

/** The repository's real path when it lies at or below one of the roots; a UserError saying why not otherwise. */
export function repoUnderRoots(repo: string, roots: readonly string[]): string {
  if (!isAbsolute(repo)) throw new UserError(`repo ${repo} must be an absolute path`, "name a repository below one of the server's roots");
  let real: string;
  try {
    real = realpathSync(repo);
  } catch {
    throw new UserError(`repo ${repo} does not exist on the server`, "name a repository below one of the server's roots");
  }
  const inside = roots.some((root) => {
    const rel = relative(root, real);
    return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
  });
  if (!inside) throw new UserError(`repo ${repo} is outside the server's repository roots`, roots.length > 0 ? `roots: ${roots.join(", ")}` : "the server was started without --root");
  return real;
}

/**
 * A repository URL a job may name: one below a prefix the server allows (`--allow-url`), as a
 * whole path segment, with no `.` or `..` segment that could lead out of it once resolved.
 */
export function repoUrlAllowed(url: string, prefixes: readonly string[]): string {
  if (prefixes.length === 0) throw new UserError(`repo ${url} is a URL and this server takes none`, "name a repository below one of the server's roots, or start it with --allow-url");
  const path = url.replace(/^[a-z]+:\/\/[^/]*/, "").replace(/^[^/]*:/, "");
  if (/\s/.test(url) || path.split("/").some((segment) => segment === "." || segment === "..")) {
    throw new UserError(`repo ${url} is not a plain URL`, "give it without spaces or . and .. segments");
  }
  const below = prefixes.some((prefix) => url === prefix || (url.startsWith(prefix) && (prefix.endsWith("/") || prefix.endsWith(":") || url[prefix.length] === "/")));
  if (!below) throw new UserError(`repo ${url} is not below a URL this server allows`, `allowed: ${prefixes.join(", ")}`);
  return url;
}
