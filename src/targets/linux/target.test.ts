import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { UserError } from "../../core/errors.js";
import { parseAll } from "../../report/index.js";
import { createLinuxTarget, defaultVmCount, parseLinuxTarget } from "./target.js";

const minimal = { kind: "linux", config: "kernel.config", reproducer: { path: "repro.sh" } };

describe("parseLinuxTarget", () => {
  it("fills defaults for everything but the config and reproducer", () => {
    const t = parseLinuxTarget(minimal);
    assert.equal(t.vm.memory, 1024);
    assert.equal(t.vm.accel, "auto");
    assert.equal(t.timeouts.run, 10 * 60_000);
    assert.equal(t.releases.newest, 3);
    assert.equal(t.ccache, "auto");
    assert.equal(t.maintainers, "file");
  });
  it("reads durations and compiler maps", () => {
    const t = parseLinuxTarget({ ...minimal, compilers: { "v5.10": "gcc-10" }, timeouts: { boot: "90s", build: 2 } });
    assert.equal(t.timeouts.boot, 90_000);
    assert.equal(t.timeouts.build, 2000);
    assert.deepEqual(t.compilers, { "v5.10": "gcc-10" });
  });
  const bad: [string, unknown, RegExp][] = [
    ["an unknown field", { ...minimal, vm: { memroy: 512 } }, /target\.vm/],
    ["a compiler key that is no release", { ...minimal, compilers: { "5.10": "gcc" } }, /target\.compilers/],
    ["both an initramfs and an image", { ...minimal, vm: { initramfs: "a.cpio", image: { path: "b.img" } } }, /not both/],
    ["a missing reproducer", { kind: "linux", config: "c" }, /target\.reproducer/],
    ["a bad duration", { ...minimal, timeouts: { run: "ten minutes" } }, /target\.timeouts\.run/],
  ];
  for (const [name, raw, want] of bad) {
    it(`rejects ${name} in one line`, () =>
      assert.throws(() => parseLinuxTarget(raw), (err: unknown) => err instanceof UserError && want.test(err.message) && !err.message.includes("\n")));
  }
});

describe("docs/kernel.md", () => {
  it("its full example is a valid target section", () => {
    const doc = join(dirname(fileURLToPath(import.meta.url)), "../../../../docs/kernel.md");
    const example = /```yaml\n([\s\S]*?)```/.exec(readFileSync(doc, "utf8"))?.[1];
    assert.ok(example, "docs/kernel.md has a yaml example");
    const job = parseYaml(example) as { target: unknown };
    const t = parseLinuxTarget(job.target);
    assert.equal(t.vm.count, 4);
    assert.equal(t.timeouts.noOutput, 3 * 60_000);
    assert.deepEqual(t.releaseTweaks.map((r) => r.tag), ["v5.12"]);
  });
});

describe("defaultVmCount", () => {
  const GiB = 1024 ** 3;
  const cases: [string, number, number, number, number][] = [
    ["memory-bound", 1024, 3 * GiB, 8, 1],
    ["cpu-bound", 512, 64 * GiB, 2, 2],
    ["never zero", 4096, 1 * GiB, 4, 1],
  ];
  for (const [name, mb, free, cpus, want] of cases) it(name, () => assert.equal(defaultVmCount(mb, free, cpus), want));
});

describe("createLinuxTarget", () => {
  it("names the missing file", async () => {
    const t = parseLinuxTarget(minimal);
    await assert.rejects(
      createLinuxTarget(t, { repoDir: "/", baseDir: "/nonexistent", workDir: "/tmp", parse: parseAll, log: () => {} }),
      (err: unknown) => err instanceof UserError && /kernel config \/nonexistent\/kernel\.config does not exist/.test(err.message),
    );
  });

  it("makes a runner that assembles the initramfs once and boots Debian's kernel with it", async (t) => {
    const kernel = readdirSync("/boot").filter((f) => /^vmlinuz-.*-amd64$/.test(f)).sort().at(-1);
    assert.ok(kernel, "install linux-image-amd64");
    const work = await mkdtemp(join(tmpdir(), "culprit-linux-"));
    try {
      await writeFile(join(work, "kernel.config"), "CONFIG_A=y\n");
      await writeFile(join(work, "repro.sh"), "echo 'reproducer ran'\n");
      const artifacts = join(work, "artifacts");
      await mkdir(artifacts);
      await symlink(join("/boot", kernel), join(artifacts, "bzImage"));
      const lines: string[] = [];
      const target = parseLinuxTarget({ ...minimal, vm: { accel: "tcg", memory: 512, cpus: 1 }, timeouts: { run: "90s", boot: "60s", noOutput: "60s" } });
      const parts = await createLinuxTarget(target, { repoDir: work, baseDir: work, workDir: join(work, "w"), parse: parseAll, log: (l) => lines.push(l) });
      assert.equal(parts.accel, "tcg");
      assert.equal(parts.runTimeoutMs, 90_000);
      assert.deepEqual(parts.remedies.map((r) => r.name), ["disable:LOCKDEP", "disable:HANG_DETECTORS"]);
      const started = performance.now();
      const results = await parts.runner.run({
        commit: "debian",
        artifactsDir: artifacts,
        indices: [0],
        parallel: 1,
        timeoutMs: parts.runTimeoutMs,
        logDir: join(work, "logs"),
        signal: new AbortController().signal,
      });
      t.diagnostic(`one run through the factory's runner: ${((performance.now() - started) / 1000).toFixed(1)}s`);
      assert.deepEqual(results.map((r) => r.outcome), [{ kind: "ok" }]);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});
