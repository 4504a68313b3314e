// The job file: one YAML document describing a bisection. Flags override fields.
// Validation errors name the field and say what to write instead.

import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { durationField } from "../core/durationField.js";
import { UserError } from "../core/errors.js";

const duration = durationField;

/** An argv array, or a string split on spaces (no shell: write [sh, -c, "..."] for one). */
const command = z.union([
  z.array(z.string().min(1)).min(1),
  z
    .string()
    .min(1)
    .transform((s) => s.trim().split(/\s+/)),
]);

export const jobSchema = z
  .object({
    repo: z.string().min(1),
    kind: z.enum(["cause", "fix"]).default("cause"),
    start: z.string().min(1).default("HEAD"),
    good: z.string().min(1).optional(),
    /** Cause, without good: the oldest commit the search may reach; default: the repository's first commits. */
    oldest: z.string().min(1).optional(),
    end: z.string().min(1).optional(),
    /** The title of the crash to bisect (e.g. from syzbot's bug list); default: the start commit's commonest. */
    crash: z.string().min(1).optional(),
    strategy: z.enum(["culprit", "syzbot"]).default("culprit"),
    build: z
      .object({
        command,
        artifacts: z.array(z.string().min(1)).min(1),
        compiler: z.string().min(1).default("gcc"),
        timeout: duration.default(30 * 60_000),
        clean: z.boolean().default(true),
        env: z.record(z.string(), z.string()).optional(),
      })
      .strict()
      .optional(),
    reproducer: z
      .object({
        command,
        timeout: duration.default(5 * 60_000),
        env: z.record(z.string(), z.string()).optional(),
        /** A non-zero exit with no crash report: the reproducer could not run (default), a crash, or OK. */
        exitStatus: z.enum(["untestable", "crash", "ignore"]).default("untestable"),
        /** Bytes of each run's output kept (its head and tail) and parsed. */
        outputLimit: z.number().int().min(4096).default(4 * 1024 * 1024),
      })
      .strict()
      .optional(),
    /** A target section (`kind: linux`): culprit builds and boots kernels itself (docs/kernel.md). */
    target: z.object({ kind: z.literal("linux") }).passthrough().optional(),
    /** Where relative paths in `target` are resolved; set by culprit when it saves the job. */
    baseDir: z.string().min(1).optional(),
    runs: z.number().int().min(1).max(1000).default(10),
    startRuns: z.number().int().min(1).max(1000).default(20),
    parallelism: z
      .object({
        commits: z.number().int().min(1).max(64).default(1),
        runs: z.number().int().min(1).max(256).default(4),
        /** With one commit at a time, build the commits that may be asked next while the runs go;
         *  default: where every build starts from a clean checkout (`build.clean`). */
        buildAhead: z.boolean().optional(),
      })
      .strict()
      .default({ commits: 1, runs: 4 }),
    /** Who maintains the culprit's files: a MAINTAINERS file (default) or the tree's get_maintainer.pl. */
    maintainers: z.enum(["file", "script"]).optional(),
    workDir: z.string().min(1).optional(),
    cacheDir: z.string().min(1).optional(),
    seed: z.number().int().default(1),
  })
  .strict()
  .superRefine((job, ctx) => {
    // Without a target section, the generic builder and process runner need their commands.
    if (job.target) return;
    if (!job.build) ctx.addIssue({ code: "custom", path: ["build"], message: "missing field build in job (or give a target: section)" });
    if (!job.reproducer) ctx.addIssue({ code: "custom", path: ["reproducer"], message: "missing field reproducer in job (or give a target: section)" });
  });

export type Job = z.infer<typeof jobSchema>;

/** Where a field came from, for wording: a flag's name (e.g. "--runs"), or undefined for the job file. */
export type FieldOrigin = (path: string) => string | undefined;

/** Integer fields, so a wrong value reads "a whole number" rather than zod's "number". */
const WHOLE_NUMBERS = new Set(["runs", "startRuns", "parallelism.commits", "parallelism.runs", "seed"]);

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let at = raw;
  for (const key of path) {
    if (at === null || typeof at !== "object") return undefined;
    at = (at as Record<PropertyKey, unknown>)[key];
  }
  return at;
}

function shown(value: unknown): string {
  if (typeof value === "string") return `'${value}'`;
  if (Array.isArray(value)) return "a list";
  if (value !== null && typeof value === "object") return "a mapping";
  return String(value);
}

/** The field names the schema knows at `path` (a section's fields, or the top level). */
function knownFields(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = jobSchema;
  for (const key of [...path, undefined]) {
    while (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) schema = schema.unwrap() as z.ZodType;
    if (!(schema instanceof z.ZodObject)) return [];
    if (key === undefined) return Object.keys(schema.shape);
    const next = (schema.shape as Record<string, z.ZodType | undefined>)[String(key)];
    if (!next) return [];
    schema = next;
  }
  return [];
}

/** Edit distance, for "did you mean": a typo is one or two edits away. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min((row[j] as number) + 1, (next[j - 1] as number) + 1, (row[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length] as number;
}

export function closest(word: string, known: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of known) {
    const d = editDistance(word.toLowerCase(), name.toLowerCase());
    const allowed = name.length <= 3 ? 1 : Math.max(2, Math.floor(name.length / 3));
    if (d <= allowed && (!best || d < best.d)) best = { name, d };
  }
  return best?.name;
}

function expectation(issue: z.core.$ZodIssue, field: string): string {
  if (issue.code !== "invalid_type") return "valid";
  if (WHOLE_NUMBERS.has(field) || issue.expected === "int") return "a whole number";
  switch (issue.expected) {
    case "array":
      return "a list, like [a, b]";
    case "object":
    case "record":
      return "a mapping of fields";
    case "boolean":
      return "true or false";
    case "number":
      return "a number";
    case "string":
      return "a string";
    default:
      return `of type ${issue.expected}`;
  }
}

/** The branch of a union that says most: a format or range problem over a mere type mismatch. */
function mostSpecific(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue | undefined {
  return issues.find((i) => i.code !== "invalid_type") ?? issues[0];
}

/** One clear sentence for the first problem zod found, naming the field (or the flag it came from). */
export function describeIssue(error: z.ZodError, raw: unknown = undefined, origin: FieldOrigin = () => undefined): string {
  // A misspelt field is why its correct spelling is missing: say that first.
  const issue = error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0];
  if (!issue) return "invalid job";
  const path = issue.path;
  const field = path.map(String).join(".");
  const named = origin(field) ?? (field || "the job");
  const value = valueAt(raw, path);
  switch (issue.code) {
    case "unrecognized_keys":
      return issue.keys
        .map((key) => {
          const full = [...path.map(String), key].join(".");
          const guess = closest(key, knownFields(path));
          return `unknown field ${full}${guess ? ` (did you mean ${guess}?)` : ""}`;
        })
        .join(", ");
    case "custom":
      return issue.message;
    case "invalid_type":
      if (value === undefined) return `missing field ${field} in job`;
      return `${named} must be ${expectation(issue, field)}, got ${shown(value)}`;
    case "too_big":
      return `${named} must be at most ${String(issue.maximum)}, got ${shown(value)}`;
    case "too_small":
      return issue.origin === "array" || issue.origin === "string"
        ? `${named} must not be empty`
        : `${named} must be at least ${String(issue.minimum)}, got ${shown(value)}`;
    case "invalid_value": {
      const choices = issue.values.map(String);
      const guess = typeof value === "string" ? closest(value, choices) : undefined;
      return `${named} must be one of ${choices.join(", ")}, got ${shown(value)}${guess ? ` (did you mean ${guess}?)` : ""}`;
    }
    case "invalid_union": {
      if (value === undefined) return `missing field ${field} in job`;
      const branches = issue.errors.map((branch) => mostSpecific(branch)).filter((i): i is z.core.$ZodIssue => i !== undefined);
      const telling = branches.find((i) => i.code !== "invalid_type");
      if (telling) return `${named}: ${telling.message}, got ${shown(value)}`;
      if (field.endsWith("command")) return `${named} must be a command: a list like [make, -j2] or a string, got ${shown(value)}`;
      return `${named} has the wrong type, got ${shown(value)}`;
    }
    default:
      return `${named}: ${issue.message}, got ${shown(value)}`;
  }
}

export function validateJob(raw: unknown, origin: FieldOrigin = () => undefined): Job {
  const parsed = jobSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues.find((i) => i.code === "unrecognized_keys") ?? parsed.error.issues[0];
    const fromFlag = origin(first?.path.map(String).join(".") ?? "") !== undefined;
    throw new UserError(describeIssue(parsed.error, raw, origin), fromFlag ? "see culprit bisect --help" : 'see README.md, "Job file"');
  }
  return parsed.data;
}

/** Reads a YAML job file; relative paths in it are relative to the file. */
export function readJobFile(path: string): { fields: Record<string, unknown>; baseDir: string } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UserError(`cannot read job file ${path}`, "check the path");
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    const why = err instanceof Error ? (err.message.split("\n")[0] ?? "") : "";
    throw new UserError(`invalid YAML in ${path}: ${why}`, "fix the syntax at that line");
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new UserError(`job file ${path} is not a YAML mapping`, "write fields like `repo: ../linux`");
  }
  const job = { ...(doc as Record<string, unknown>) };
  const base = dirname(resolve(path));
  for (const key of ["repo", "workDir", "cacheDir"] as const) {
    const value = job[key];
    if (typeof value === "string" && !isAbsolute(value)) job[key] = resolve(base, value);
  }
  return { fields: job, baseDir: base };
}
