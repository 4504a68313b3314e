// The generic builder: the user's build command, run in the checkout, then the declared
// artifacts copied out and signed.

import { createHash } from "node:crypto";
import { copyFile, mkdir, readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { execLogged, type ExecResult } from "../run/exec.js";
import { compilerIdentity } from "../run/toolchain.js";
import { artifactsSignature } from "./signature.js";
import type { Builder, BuildRequest, BuildResult } from "./builder.js";

export interface CommandBuildSpec {
  command: string[];
  /** Paths relative to the checkout that make up the build's output. */
  artifacts: string[];
  /** The compiler whose identity goes into the cache key and the log. */
  compiler: string;
  timeoutMs: number;
  env?: Record<string, string>;
}

export class CommandBuilder implements Builder {
  private identity?: Promise<string>;

  constructor(private readonly spec: CommandBuildSpec) {}

  toolchain(): Promise<string> {
    this.identity ??= compilerIdentity(this.spec.compiler);
    return this.identity;
  }

  configHash(remedies: readonly string[]): string {
    const { command, artifacts, env } = this.spec;
    return createHash("sha256").update(JSON.stringify({ command, artifacts, env, remedies })).digest("hex");
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    const started = performance.now();
    const elapsed = (): number => performance.now() - started;
    const result = await execLogged(this.spec.command, {
      cwd: request.worktree,
      timeoutMs: this.spec.timeoutMs,
      signal: request.signal,
      logFile: request.logFile,
      env: { ...process.env, ...this.spec.env, CULPRIT_COMMIT: request.commit, CULPRIT_REMEDIES: request.remedies.join(",") },
      ...(request.background ? { lowPriority: true } : {}),
    });
    if (result.kind === "spawn-error") {
      return { kind: "failed", excerpt: `cannot start build command: ${result.message}`, durationMs: elapsed() };
    }
    const log = await readFile(request.logFile, "utf8").catch(() => "");
    const transient = transientFailure(result, log);
    if (transient !== undefined) {
      const excerpt = result.timedOut ? `build timed out after ${Math.round(this.spec.timeoutMs / 1000)}s` : `build ${transient}`;
      return { kind: "failed", excerpt, durationMs: elapsed(), transient };
    }
    if (result.code !== 0) return { kind: "failed", excerpt: errorExcerpt(log), durationMs: elapsed() };
    for (const rel of this.spec.artifacts) {
      const from = join(request.worktree, rel);
      const present = await stat(from).then((s) => s.isFile(), () => false);
      if (!present) return { kind: "failed", excerpt: `build succeeded but artifact ${rel} is missing`, durationMs: elapsed() };
      await mkdir(dirname(join(request.artifactsDir, rel)), { recursive: true });
      await copyFile(from, join(request.artifactsDir, rel));
    }
    const signature = await artifactsSignature(request.artifactsDir, this.spec.artifacts);
    return { kind: "ok", signature, durationMs: elapsed() };
  }
}

/**
 * Why a failed build may not fail again on the same tree, or undefined when it would. Pure.
 * A signal kills the build itself; the OOM killer usually kills one compiler, which make and
 * gcc then report as an ordinary failure ("Killed signal terminated program cc1", status 137).
 */
export function transientFailure(exit: ExecResult, log: string): string | undefined {
  if (exit.kind !== "exited" || exit.aborted) return undefined;
  if (exit.timedOut) return "timed out";
  if (exit.signal !== null) return `killed by ${exit.signal}`;
  if (exit.code === 0) return undefined;
  if (exit.code !== null && exit.code > 128) return `killed by signal ${exit.code - 128}`;
  const killed = /(?:Killed signal terminated program \S+|internal compiler error: Killed|\bError 13[7-9]\b|^Killed$)/m.exec(log);
  return killed ? `killed (${killed[0].trim()}; out of memory?)` : undefined;
}

/** The lines a developer would look at first: compiler errors, else the end of the log. */
export function errorExcerpt(log: string, max = 10): string {
  const lines = log.split("\n").filter((l) => l.trim().length > 0);
  const errors = lines.filter((l) => /\berror\b|\bError\b|fatal:|undefined reference/.test(l));
  return (errors.length > 0 ? errors.slice(0, max) : lines.slice(-max)).join("\n");
}

