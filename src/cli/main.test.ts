// The program itself: --version prints package.json's version; `sim --trace` tells one world.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../bin/culprit", import.meta.url));

describe("culprit --version", () => {
  it("prints the version of package.json", () => {
    const { version } = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(execFileSync(process.execPath, [BIN, "--version"], { encoding: "utf8" }), `${version}\n`);
  });
});

describe("culprit sim --trace", () => {
  it("tells one built-in scenario's bisection step by step", () => {
    const out = execFileSync(process.execPath, [BIN, "sim", "--family", "clean", "--trace", "clean-0", "--strategies", "culprit"], { encoding: "utf8" });
    assert.match(out, /^#1 test /);
    assert.match(out, /\nculprit P=1: (correct|wrong-single|inconclusive|wrong-list|correct-list|wrong-none|correct-none); truth: culprit /);
  });
  it("a name no scenario has: one line, exit 2", () => {
    const run = spawnSync(process.execPath, [BIN, "sim", "--trace", "no-such-world"], { encoding: "utf8" });
    assert.equal(run.status, 2);
    assert.equal(run.stdout, "");
    assert.equal(run.stderr.trim().split("\n").length, 1, run.stderr);
    assert.match(run.stderr, /no scenario named 'no-such-world'/);
  });
});

