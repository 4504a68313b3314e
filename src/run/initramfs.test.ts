import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { UserError } from "../core/errors.js";
import { cpioArchive, initScript, isDynamicElf, loadReproducer, MARKERS, reproducerKindOf } from "./initramfs.js";

interface ReadEntry {
  name: string;
  mode: number;
  data: Buffer;
  rdevMajor: number;
}

/** Reads a newc archive back, checking the alignment rules the kernel's unpacker relies on. */
function readCpio(archive: Buffer): ReadEntry[] {
  const entries: ReadEntry[] = [];
  let at = 0;
  for (;;) {
    assert.equal(at % 4, 0, "every header starts 4-byte aligned");
    assert.equal(archive.toString("latin1", at, at + 6), "070701");
    const field = (i: number): number => parseInt(archive.toString("latin1", at + 6 + i * 8, at + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = at + 110;
    const name = archive.toString("latin1", nameStart, nameStart + nameSize - 1);
    assert.equal(archive[nameStart + nameSize - 1], 0, "names are NUL-terminated");
    const dataStart = Math.ceil((nameStart + nameSize) / 4) * 4;
    if (name === "TRAILER!!!") {
      assert.equal(archive.length, Math.ceil(dataStart / 4) * 4);
      return entries;
    }
    entries.push({ name, mode, data: archive.subarray(dataStart, dataStart + size), rdevMajor: field(9) });
    at = Math.ceil((dataStart + size) / 4) * 4;
  }
}

describe("cpioArchive", () => {
  const archive = cpioArchive([
    { kind: "dir", path: "/bin" },
    { kind: "file", path: "bin/odd", data: Buffer.from("12345"), mode: 0o644 },
    { kind: "symlink", path: "bin/sh", target: "busybox" },
    { kind: "chardev", path: "dev/console", major: 5, minor: 1 },
  ]);
  const entries = readCpio(archive);

  it("writes every entry with its type and permissions", () => {
    assert.deepEqual(
      entries.map((e) => [e.name, e.mode.toString(8)]),
      [
        ["bin", "40755"],
        ["bin/odd", "100644"],
        ["bin/sh", "120777"],
        ["dev/console", "20600"],
      ],
    );
  });
  it("keeps file data and symlink targets, pads odd sizes", () => {
    assert.equal(entries[1]?.data.toString(), "12345");
    assert.equal(entries[2]?.data.toString(), "busybox");
    assert.equal(entries[3]?.rdevMajor, 5);
  });
  it("is reproducible", () => {
    assert.deepEqual(cpioArchive([{ kind: "dir", path: "bin" }]), cpioArchive([{ kind: "dir", path: "bin" }]));
  });
});

describe("initScript", () => {
  const script = initScript("sh /culprit/repro.sh");
  it("prints the markers in the order the runner expects", () => {
    const order = [MARKERS.initStarted, MARKERS.basicOk, MARKERS.reproStarted, MARKERS.reproFinished].map((m) => script.indexOf(m));
    assert.ok(order.every((at) => at > 0));
    assert.deepEqual(order, [...order].sort((a, b) => a - b));
  });
  it("runs the reproducer between started and finished", () => {
    const at = script.indexOf("sh /culprit/repro.sh");
    assert.ok(at > script.indexOf(MARKERS.reproStarted) && at < script.indexOf(MARKERS.reproFinished));
  });
});

describe("reproducer kinds", () => {
  const elf = (withInterp: boolean): Buffer => {
    const image = Buffer.alloc(64 + 2 * 56);
    image.writeUInt32BE(0x7f454c46, 0);
    image[4] = 2;
    image[5] = 1;
    image.writeBigUInt64LE(64n, 0x20);
    image.writeUInt16LE(56, 0x36);
    image.writeUInt16LE(2, 0x38);
    image.writeUInt32LE(1, 64); // PT_LOAD
    image.writeUInt32LE(withInterp ? 3 : 1, 64 + 56);
    return image;
  };
  const cases: [string, string, Buffer, string][] = [
    ["a .c file is C", "repro.c", Buffer.from("int main(){}"), "c"],
    ["an ELF is a binary", "repro", elf(false), "binary"],
    ["anything else is a shell script", "repro", Buffer.from("#!/bin/sh\necho c > /proc/sysrq-trigger\n"), "shell"],
  ];
  for (const [name, path, head, want] of cases) it(name, () => assert.equal(reproducerKindOf(path, head), want));
  it("tells static from dynamic executables", () => {
    assert.equal(isDynamicElf(elf(false)), false);
    assert.equal(isDynamicElf(elf(true)), true);
  });
});

describe("loadReproducer", () => {
  const load = async (name: string, text: string | undefined, kind: "auto" | "binary" = "auto") => {
    const work = await mkdtemp(join(tmpdir(), "culprit-repro-"));
    try {
      const path = join(work, name);
      if (text !== undefined) await writeFile(path, text);
      const lines: string[] = [];
      const payload = await loadReproducer(path, kind, { cc: "gcc", outDir: join(work, "out"), log: (l) => lines.push(l) });
      return { payload, lines };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  };
  const userError = (pattern: RegExp) => (err: unknown) => err instanceof UserError && pattern.test(err.message) && !err.message.includes("\n");
  it("a shell script goes in as it is", async () => {
    const { payload, lines } = await load("repro.sh", "echo c > /proc/sysrq-trigger\n");
    assert.equal(payload.kind, "shell");
    assert.deepEqual(lines, []);
  });
  it("a C file is compiled statically, once, with a log line", async () => {
    const { payload, lines } = await load("repro.c", "int main(void) { return 0; }\n");
    assert.equal(payload.kind, "binary");
    assert.ok(payload.kind === "binary" && !isDynamicElf(payload.executable));
    assert.match(lines.join("\n"), /^building reproducer .*repro\.c with /);
  });
  it("a C file that does not compile is the user's to fix", async () => {
    await assert.rejects(load("repro.c", "int main(void) { return undeclared; }\n"), userError(/does not compile: .*undeclared/));
  });
  it("a missing file says so", async () => {
    await assert.rejects(load("missing", undefined, "binary"), userError(/cannot read reproducer/));
  });
  it("a dynamically linked binary is refused (the VM has no libc)", async () => {
    // Debian's coreutils are dynamically linked.
    await assert.rejects(
      loadReproducer("/bin/true", "auto", { cc: "gcc", outDir: tmpdir(), log: () => {} }),
      userError(/is dynamically linked/),
    );
  });
});
