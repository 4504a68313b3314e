// The job file's duration syntax, shared by every section that takes a timeout.

import { z } from "zod";

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** "90s", "10m", "1.5h", or a number of seconds; parsed to milliseconds. */
export const durationField = z.union([
  z.number().positive().transform((s) => s * 1000),
  z
    .string()
    .regex(DURATION, "write a duration like 30s, 10m or 2h")
    .transform((text) => {
      const m = DURATION.exec(text) as RegExpExecArray;
      return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    }),
]);
