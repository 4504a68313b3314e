import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  applyConfigEdits,
  compilerFor,
  KernelBuilder,
  releaseTweakEdits,
  remedyEdits,
  type KernelBuildSpec,
  writeConfigIfChanged,
} from "./kernel.js";

describe("applyConfigEdits", () => {
  const config = ["CONFIG_A=y", "# CONFIG_B is not set", "CONFIG_C=m", "CONFIG_CC=y", 'CONFIG_S="x"', ""].join("\n");
  const cases: [string, { symbol: string; value: string }[], string][] = [
    ["no edits keep the text", [], config],
    ["disable replaces the old line", [{ symbol: "A", value: "n" }], "# CONFIG_B is not set\nCONFIG_C=m\nCONFIG_CC=y\nCONFIG_S=\"x\"\n# CONFIG_A is not set\n"],
    ["enable a disabled one, prefix optional", [{ symbol: "CONFIG_B", value: "y" }], "CONFIG_A=y\nCONFIG_C=m\nCONFIG_CC=y\nCONFIG_S=\"x\"\nCONFIG_B=y\n"],
    ["a symbol is not a prefix of another", [{ symbol: "C", value: "n" }], "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_CC=y\nCONFIG_S=\"x\"\n# CONFIG_C is not set\n"],
    ["the last edit of a symbol wins", [{ symbol: "D", value: "y" }, { symbol: "D", value: "n" }], `${config}# CONFIG_D is not set\n`],
  ];
  for (const [name, edits, want] of cases) it(name, () => assert.equal(applyConfigEdits(config, edits), want));
});

describe("remedyEdits", () => {
  const cases: [string, string[], string[]][] = [
    ["none", [], []],
    ["lockdep switches off everything that selects it", ["disable:LOCKDEP"], ["PROVE_LOCKING=n", "DEBUG_LOCK_ALLOC=n", "LOCK_STAT=n", "DEBUG_LOCKDEP=n", "LOCKDEP=n"]],
    ["generic disable and enable", ["enable:KASAN", "disable:CONFIG_KCOV"], ["KCOV=n", "KASAN=y"]],
    ["unknown remedies are not this builder's", ["cmdline:foo", "disable:lower_case"], []],
  ];
  for (const [name, remedies, want] of cases) {
    it(name, () => assert.deepEqual(remedyEdits(remedies).map((e) => `${e.symbol}=${e.value}`), want));
  }
});

describe("releaseTweakEdits", () => {
  const tweaks = [
    { tag: "v5.12", disable: ["BPF_LSM"] },
    { tag: "v4.20", disable: ["X", "Y"] },
  ];
  const cases: [string, string[], string[]][] = [
    ["a commit after both releases: nothing", ["v5.12", "v4.20"], []],
    ["a commit before v5.12", ["v5.11", "v4.20"], ["BPF_LSM"]],
    ["a commit before both", ["v4.19"], ["BPF_LSM", "X", "Y"]],
  ];
  for (const [name, reachable, want] of cases) {
    it(name, () => assert.deepEqual(releaseTweakEdits(tweaks, new Set(reachable)).map((e) => e.symbol), want));
  }
});

describe("compilerFor", () => {
  const compilers = { "v5.10": "gcc-10", "v4.19": "gcc-8", "v6.1": "gcc-12" };
  const cases: [string, string | undefined, Record<string, string>, string][] = [
    ["exactly a key", "v5.10", compilers, "gcc-10"],
    ["between keys: the older key", "v5.15", compilers, "gcc-10"],
    ["an rc before a key belongs to the previous one", "v6.1-rc3", compilers, "gcc-10"],
    ["a point release", "v6.1.40", compilers, "gcc-12"],
    ["older than every key: the oldest entry", "v4.4", compilers, "gcc-8"],
    ["no release reachable", undefined, compilers, "gcc"],
    ["no map", "v6.1", {}, "gcc"],
  ];
  for (const [name, release, map, want] of cases) it(name, () => assert.equal(compilerFor(release, map, "gcc"), want));
});

// The builder's flow against a stand-in kernel tree: a Makefile with olddefconfig, bzImage and
// vmlinux targets, built by the host compiler. Real kernels are the bench's job (minutes each).
describe("KernelBuilder with a stand-in tree", () => {
  const makefile = [
    "olddefconfig:",
    "\t@if grep -q '^CONFIG_BROKEN=y' .config; then echo 'error: CONFIG_BROKEN cannot be satisfied'; exit 1; fi",
    "\t@echo configured >> .configured",
    "vmlinux: main.c",
    "\t$(CC) -O1 -o vmlinux main.c",
    "bzImage: vmlinux",
    "\tmkdir -p arch/x86/boot && cp vmlinux arch/x86/boot/bzImage",
    ".PHONY: olddefconfig",
    "",
  ].join("\n");
  const git = (cwd: string, ...args: string[]): string =>
    execFileSync("git", args, { cwd, encoding: "utf8", env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });

  /** gcc from v1.0 on, cc (the fallback) before any release. */
  const standInSpec = (repoDir: string): KernelBuildSpec => ({
    repoDir,
    config: "CONFIG_A=y\n",
    compilers: { "v1.0": "gcc" },
    defaultCompiler: "cc",
    ccache: false,
    jobs: 2,
    imageTarget: "bzImage",
    imagePath: "arch/x86/boot/bzImage",
    timeoutMs: 60_000,
    releaseTweaks: [{ tag: "v9.0", disable: ["NOT_YET"] }],
    extraConfig: [],
    keepVmlinux: false,
    makeArgs: [],
  });

  it("has no compiler for a commit its repository lacks (a worker's before the fetch), and the release's once it is there", async () => {
    const work = await mkdtemp(join(tmpdir(), "culprit-kbuild-"));
    try {
      const source = join(work, "source");
      const worker = join(work, "worker");
      await mkdir(source);
      await mkdir(worker);
      git(source, "init", "-q");
      await writeFile(join(source, "Makefile"), makefile);
      git(source, "add", ".");
      git(source, "commit", "-qm", "v1");
      git(source, "tag", "v1.0");
      const commit = git(source, "rev-parse", "HEAD").trim();
      git(worker, "init", "-q");
      const builder = new KernelBuilder(standInSpec(worker));
      await assert.rejects(builder.compiler(commit), /cannot list the tags/);
      git(worker, "fetch", "-q", source, "refs/tags/v1.0:refs/tags/v1.0");
      assert.equal(await builder.compiler(commit), "gcc", "the answer before the fetch is not kept");
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it("builds, signs, keeps signatures across comment edits, and reports broken configs and compile errors", async () => {
    const work = await mkdtemp(join(tmpdir(), "culprit-kbuild-"));
    try {
      const tree = join(work, "tree");
      await mkdir(tree);
      git(tree, "init", "-q");
      await writeFile(join(tree, "Makefile"), makefile);
      await writeFile(join(tree, "main.c"), "int main(void) { return 0; }\n");
      git(tree, "add", ".");
      git(tree, "commit", "-qm", "v1");
      git(tree, "tag", "v1.0");
      const spec = standInSpec(tree);
      const builder = new KernelBuilder(spec);
      const head = git(tree, "rev-parse", "HEAD").trim();
      assert.match(await builder.toolchain(head), /gcc|GCC/);

      const build = async (name: string, remedies: string[] = [], b = builder) => {
        const artifactsDir = join(work, name);
        const result = await b.build({ commit: git(tree, "rev-parse", "HEAD").trim(), worktree: tree, remedies, artifactsDir, logFile: join(work, `${name}.log`), signal: new AbortController().signal });
        return { result, artifactsDir };
      };
      const first = await build("first", ["disable:LOCKDEP"]);
      assert.equal(first.result.kind, "ok");
      assert.ok(existsSync(join(first.artifactsDir, "bzImage")));
      const config = await readFile(join(first.artifactsDir, "config"), "utf8");
      assert.match(config, /# CONFIG_PROVE_LOCKING is not set/);
      assert.match(config, /# CONFIG_NOT_YET is not set/, "v9.0 is not reachable, so its tweak applies");
      assert.match(config, /# CONFIG_LOCALVERSION_AUTO is not set/);

      await writeFile(join(tree, "main.c"), "/* a comment only */\nint main(void) { return 0; }\n");
      git(tree, "commit", "-qam", "comment");
      const comment = await build("comment");
      assert.ok(first.result.kind === "ok" && comment.result.kind === "ok");
      assert.equal(comment.result.signature, first.result.signature);

      await writeFile(join(tree, "main.c"), "int main(void) { return 1; }\n");
      git(tree, "commit", "-qam", "change");
      const changed = await build("changed");
      assert.ok(changed.result.kind === "ok");
      assert.notEqual(changed.result.signature, first.result.signature);

      await writeFile(join(tree, "main.c"), "int main(void) { return undeclared; }\n");
      git(tree, "commit", "-qam", "break");
      const broken = await build("broken");
      assert.equal(broken.result.kind, "failed");
      assert.match(broken.result.kind === "failed" ? broken.result.excerpt : "", /error: .*undeclared/);

      const badConfig = await build("badconfig", [], new KernelBuilder({ ...spec, config: "CONFIG_BROKEN=y\n" }));
      assert.equal(badConfig.result.kind, "failed");
      assert.match(badConfig.result.kind === "failed" ? badConfig.result.excerpt : "", /^broken config/);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });
});

describe("writeConfigIfChanged", () => {
  it("leaves .config and its mtime alone when the input is unchanged, rewrites it when it changed", async () => {
    const tree = await mkdtemp(join(tmpdir(), "culprit-config-"));
    try {
      const config = join(tree, ".config");
      assert.equal(await writeConfigIfChanged(tree, "CONFIG_A=y\n"), true);
      // olddefconfig normalises the file; an old mtime shows whether it is touched again.
      await writeFile(config, "CONFIG_A=y\n# normalised\n");
      const old = new Date("2020-01-01T00:00:00Z");
      await utimes(config, old, old);
      assert.equal(await writeConfigIfChanged(tree, "CONFIG_A=y\n"), false);
      assert.equal((await stat(config)).mtimeMs, old.getTime());
      assert.equal(await readFile(config, "utf8"), "CONFIG_A=y\n# normalised\n");
      assert.equal(await writeConfigIfChanged(tree, "CONFIG_A=n\n"), true);
      assert.equal(await readFile(config, "utf8"), "CONFIG_A=n\n");
      await rm(config);
      assert.equal(await writeConfigIfChanged(tree, "CONFIG_A=n\n"), true, "a missing .config is always written");
      assert.equal(await readFile(config, "utf8"), "CONFIG_A=n\n");
    } finally {
      await rm(tree, { recursive: true, force: true });
    }
  });
});
