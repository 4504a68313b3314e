// The program itself: --version prints package.json's version.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../../bin/culprit", import.meta.url));

describe("culprit --version", () => {
  it("prints the version of package.json", () => {
    const { version } = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    assert.equal(execFileSync(process.execPath, [BIN, "--version"], { encoding: "utf8" }), `${version}\n`);
  });
});
