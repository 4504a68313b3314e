// A request zod refuses, in one sentence: its first problem, naming the field.

import type { z } from "zod";

export function firstIssue(error: z.ZodError, what: string): string {
  const issue = error.issues[0];
  if (!issue) return `invalid ${what}`;
  if (issue.code === "unrecognized_keys") return `unknown ${what} ${issue.keys.join(", ")}`;
  const field = issue.path.map(String).join(".");
  return `${what} ${field}: ${issue.message}`;
}
