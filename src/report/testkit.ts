// Reading the shared corpus of real console logs (../shared/corpus), for the tests that walk it.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The corpus lives beside the checkout: ../shared/corpus from the repository root. */
export function corpusRoot(): string {
  if (process.env.CULPRIT_CORPUS) return process.env.CULPRIT_CORPUS;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = resolve(dir, "..", "shared", "corpus");
    if (existsSync(candidate)) return candidate;
    dir = resolve(dir, "..");
  }
  return resolve("..", "shared", "corpus");
}

/** A missing corpus fails the run: a corpus test that quietly skips would report a parser nobody checked. */
export function requireCorpus(dir: string): void {
  assert.ok(existsSync(dir), `corpus not found at ${dir}: put ../shared beside the checkout or set CULPRIT_CORPUS`);
}

