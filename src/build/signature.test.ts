// Signatures of real gcc output: what must and must not change them.

import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { contentSignature, elfSections, elfSignature } from "./signature.js";

const SOURCE = "int f(int x) { return x * 3; }\nint main(void) { return f(2) - 6; }\n";

describe("build signatures of ELF files", () => {
  const dir = mkdtempSync(join(tmpdir(), "culprit-sig-"));
  const binary = (name: string, source: string, flags: string[]): string => {
    const src = join(dir, `${name}.c`);
    writeFileSync(src, source);
    const out = join(dir, name);
    execFileSync("gcc", ["-O1", ...flags, "-o", out, src]);
    return out;
  };
  let plain: string;
  before(() => {
    plain = binary("plain", SOURCE, []);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("ignores debug info", async () => {
    assert.equal(await elfSignature(binary("debug", SOURCE, ["-g"])), await elfSignature(plain));
  });

  // A build id of the same size as the default (sha1) but other bytes: the layout stays, the note differs.
  it("ignores the build id and other notes", async () => {
    assert.equal(await elfSignature(binary("buildid", SOURCE, [`-Wl,--build-id=0x${"ab".repeat(20)}`])), await elfSignature(plain));
  });

  it("ignores a comment-only change", async () => {
    assert.equal(await elfSignature(binary("comment", SOURCE.replace("x * 3;", "x * 3; /* why */"), [])), await elfSignature(plain));
  });

  it("changes when the code changes", async () => {
    assert.notEqual(await elfSignature(binary("changed", SOURCE.replace("x * 3", "x * 5").replace("- 6", "- 10"), [])), await elfSignature(plain));
  });

  it("reads the section table: loaded sections present, names right", () => {
    const sections = elfSections(execFileSync("cat", [plain]));
    assert.ok(sections);
    const names = sections.map((s) => s.name);
    for (const name of [".text", ".rodata", ".note.gnu.build-id", ".symtab"]) assert.ok(names.includes(name), name);
  });

  it("hashes a non-ELF file whole, and never throws on a truncated ELF header", () => {
    assert.equal(contentSignature(Buffer.from("hello")), contentSignature(Buffer.from("hello")));
    assert.notEqual(contentSignature(Buffer.from("hello")), contentSignature(Buffer.from("hellO")));
    const truncated = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]), Buffer.alloc(60, 0xff)]);
    assert.equal(typeof contentSignature(truncated), "string");
  });
});
