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

/** One clear sentence for the first problem zod found, naming the field. */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid job";
  const field = issue.path.join(".") || "(top level)";
  if (issue.code === "unrecognized_keys") return `unknown field ${issue.keys.map((k) => [field === "(top level)" ? "" : field, k].filter(Boolean).join(".")).join(", ")} in job (remove it or check its spelling)`;
  if (issue.code === "invalid_type" && issue.input === undefined) return `missing field ${field} in job`;
  if (issue.code === "custom") return issue.message;
  return `invalid ${field} in job: ${issue.message}`;
}

export function validateJob(raw: unknown): Job {
  const parsed = jobSchema.safeParse(raw);
  if (!parsed.success) throw new UserError(describeIssue(parsed.error), "see README.md, \"Job file\"");
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
