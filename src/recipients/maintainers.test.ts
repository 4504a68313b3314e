import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Repo } from "../git/git.js";
import {
  maintainersLookup,
  parseGetMaintainerOutput,
  parseMaintainers,
  patternMatches,
  recipientsFor,
} from "./maintainers.js";

// A MAINTAINERS file in the real format: a preface with tab-indented examples that must not be
// read as entries, sections separated by blank lines, THE REST last.
const MAINTAINERS = [
  "List of maintainers",
  "===================",
  "",
  "Descriptions of section entries and preferred order",
  "\tM: *Mail* patches to: FullName <address@domain>",
  "\tF: *Files* and directories wildcard patterns.",
  "",
  "Maintainers List",
  "----------------",
  "",
  "BLOCK LAYER",
  "M:\tJens Axboe <axboe@kernel.dk>",
  "L:\tlinux-block@vger.kernel.org",
  "S:\tMaintained",
  "T:\tgit git://git.kernel.org/pub/scm/linux/kernel/git/axboe/linux-block.git",
  "F:\tblock/",
  "F:\tinclude/linux/blk*",
  "F:\tkernel/trace/blktrace.c",
  "X:\tblock/partitions/",
  "",
  "BLOCK PARTITIONS",
  "M:\tJan Kara <jack@suse.cz>",
  "R:\tHannes Reinecke <hare@suse.de>",
  "L:\tlinux-block@vger.kernel.org",
  "S:\tSupported",
  "F:\tblock/partitions/",
  "",
  "NETWORKING DRIVERS",
  "M:\tNet Dev <netdev-maint@example.org>",
  "L:\tnetdev@vger.kernel.org",
  "S:\tOdd Fixes",
  "F:\tdrivers/net/*",
  "",
  "TEGRA ARCHITECTURE SUPPORT",
  "M:\tTegra Person <tegra@example.org>",
  "L:\tlinux-tegra@vger.kernel.org",
  "L:\tsecret-tegra@example.org (subscribers-only)",
  "S:\tSupported",
  "N:\t[^a-z]tegra",
  "",
  "INPUT MULTITOUCH (MT) PROTOCOL",
  "M:\tMT Person <mt@example.org>",
  "M:\tMT Person <mt.person@example.com>",
  "S:\tOdd fixes",
  "K:\t\\b(ABS|SYN)_MT_",
  "K:\t(?i)multi-?touch",
  "",
  "X86 ARCHITECTURE",
  "M:\tX86 Person <x86@example.org>",
  "L:\tlinux-kernel@vger.kernel.org",
  "S:\tMaintained",
  "F:\tarch/x86/",
  "",
  "NBD",
  "M:\tNBD Maintainer <nbd@example.org>",
  "L:\tnbd@other.example.org (moderated for non-subscribers)",
  "S:\tMaintained",
  "F:\tdrivers/block/nbd.c",
  "",
  "THE REST",
  "M:\tLinus Torvalds <torvalds@linux-foundation.org>",
  "L:\tlinux-kernel@vger.kernel.org",
  "S:\tBuried",
  "F:\t*",
  "F:\t*/",
  "",
].join("\n");

const maintainers = parseMaintainers(MAINTAINERS);

describe("parseMaintainers", () => {
  it("reads sections, not the preface's examples", () => {
    assert.deepEqual(
      maintainers.sections.map((s) => s.name),
      [
        "BLOCK LAYER",
        "BLOCK PARTITIONS",
        "NETWORKING DRIVERS",
        "TEGRA ARCHITECTURE SUPPORT",
        "INPUT MULTITOUCH (MT) PROTOCOL",
        "X86 ARCHITECTURE",
        "NBD",
        "THE REST",
      ],
    );
  });
  it("keeps addresses, statuses and drops subscribers-only lists", () => {
    const tegra = maintainers.sections[3];
    assert.equal(tegra?.status, "Supported");
    assert.deepEqual(tegra?.lists.map((l) => l.email), ["linux-tegra@vger.kernel.org"]);
    assert.deepEqual(maintainers.sections[0]?.maintainers, [
      { raw: "Jens Axboe <axboe@kernel.dk>", email: "axboe@kernel.dk" },
    ]);
  });
});

describe("patternMatches", () => {
  const cases: [string, string, string, boolean][] = [
    ["trailing slash is recursive", "block/", "block/partitions/core.c", true],
    ["glob stays at its depth", "drivers/net/*", "drivers/net/dummy.c", true],
    ["glob is not recursive", "drivers/net/*", "drivers/net/wireless/x.c", false],
    ["glob inside a name", "include/linux/blk*", "include/linux/blkdev.h", true],
    ["glob inside a name, other name", "include/linux/blk*", "include/linux/bio.h", false],
    ["exact file", "kernel/trace/blktrace.c", "kernel/trace/blktrace.c", true],
    ["exact file is not a prefix", "kernel/trace/blktrace.c", "kernel/trace/blktrace.c.orig", false],
    ["a directory named without slash", "drivers/gpu", "drivers/gpu/drm/x.c", true],
    ["no partial directory names", "drivers/gpu", "drivers/gpux/y.c", false],
    ["question mark is one character", "fs/ext?/", "fs/ext4/inode.c", true],
    ["top-level star", "*", "Makefile", true],
    ["top-level star is not recursive", "*", "block/genhd.c", false],
    ["star slash is everything below the top", "*/", "block/genhd.c", true],
  ];
  for (const [name, pattern, file, want] of cases) {
    it(name, () => assert.equal(patternMatches(pattern, file), want));
  }
});

describe("recipientsFor", () => {
  const cases: {
    name: string;
    files: string[];
    content?: Record<string, string>;
    patch?: string;
    to: string[];
    cc: string[];
  }[] = [
    {
      name: "a subsystem file: maintainer and list to, LKML cc, no chief penguin",
      files: ["block/genhd.c"],
      to: ["axboe@kernel.dk", "linux-block@vger.kernel.org"],
      cc: ["linux-kernel@vger.kernel.org"],
    },
    {
      name: "X: excludes the parent section; reviewers go to cc",
      files: ["block/partitions/core.c"],
      to: ["jack@suse.cz", "linux-block@vger.kernel.org"],
      cc: ["hare@suse.de", "linux-kernel@vger.kernel.org"],
    },
    {
      name: "several files match several sections (the reference culprit)",
      files: ["block/genhd.c", "block/partitions/core.c"],
      to: ["axboe@kernel.dk", "jack@suse.cz", "linux-block@vger.kernel.org"],
      cc: ["hare@suse.de", "linux-kernel@vger.kernel.org"],
    },
    {
      name: "only THE REST: LKML stays in to",
      files: ["init/main.c"],
      to: ["linux-kernel@vger.kernel.org"],
      cc: [],
    },
    {
      name: "N: matches the path by regex",
      files: ["drivers/gpu/host1x/tegra-foo.c"],
      to: ["linux-tegra@vger.kernel.org", "tegra@example.org"],
      cc: ["linux-kernel@vger.kernel.org"],
    },
    {
      name: "N: regex is not a plain substring test",
      files: ["drivers/integra.c"],
      to: ["linux-kernel@vger.kernel.org"],
      cc: [],
    },
    {
      name: "K: matches file content; odd-fixes maintainers go to cc",
      files: ["drivers/input/touch.c"],
      content: { "drivers/input/touch.c": "input_report_abs(dev, ABS_MT_POSITION_X, x);" },
      to: ["linux-kernel@vger.kernel.org"],
      cc: ["mt@example.org"],
    },
    {
      name: "K: matches the patch too",
      files: ["drivers/input/other.c"],
      patch: "+\tinput_event(dev, EV_ABS, SYN_MT_REPORT, 0);",
      to: ["linux-kernel@vger.kernel.org"],
      cc: ["mt@example.org"],
    },
    {
      name: "K: with Perl's inline (?i)",
      files: ["drivers/input/other.c"],
      content: { "drivers/input/other.c": "/* MultiTouch support */" },
      to: ["linux-kernel@vger.kernel.org"],
      cc: ["mt@example.org"],
    },
    {
      name: "a changed file plus the crash's guilty file",
      files: ["drivers/net/dummy.c", "drivers/block/nbd.c"],
      to: ["nbd@example.org", "nbd@other.example.org", "netdev@vger.kernel.org"],
      cc: ["linux-kernel@vger.kernel.org", "netdev-maint@example.org"],
    },
    {
      name: "LKML listed by a subsystem too still goes to cc when another list applies",
      files: ["arch/x86/kvm/x86.c", "block/genhd.c"],
      to: ["axboe@kernel.dk", "linux-block@vger.kernel.org", "x86@example.org"],
      cc: ["linux-kernel@vger.kernel.org"],
    },
    {
      name: "LKML as a subsystem's only list stays in to",
      files: ["arch/x86/kernel/cpu.c"],
      to: ["linux-kernel@vger.kernel.org", "x86@example.org"],
      cc: [],
    },
    {
      name: "no files: nobody",
      files: [],
      to: [],
      cc: [],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const got = recipientsFor(maintainers, c.files, (p) => c.content?.[p], { patch: c.patch });
      assert.deepEqual({ to: got.to, cc: got.cc }, { to: c.to, cc: c.cc });
    });
  }
  it("orders matched sections most specific first", () => {
    assert.deepEqual(recipientsFor(maintainers, ["block/partitions/core.c"]).sections, [
      "BLOCK PARTITIONS",
      "THE REST",
    ]);
  });
});

describe("parseGetMaintainerOutput", () => {
  it("applies the same to/cc rule to the script's output", () => {
    const out = [
      "Jens Axboe <axboe@kernel.dk> (maintainer:BLOCK LAYER)",
      "Hannes Reinecke <hare@suse.de> (reviewer:BLOCK PARTITIONS)",
      "Odd Person <odd@example.org> (odd fixer:SOMETHING)",
      "Sean Christopherson <seanjc@google.com> (supporter:KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86))",
      "kvm@vger.kernel.org (open list:KERNEL VIRTUAL MACHINE FOR X86 (KVM/x86))",
      "linux-block@vger.kernel.org (open list:BLOCK LAYER)",
      "linux-kernel@vger.kernel.org (open list)",
      "",
    ].join("\n");
    const got = parseGetMaintainerOutput(out);
    assert.deepEqual(got.to, ["axboe@kernel.dk", "kvm@vger.kernel.org", "linux-block@vger.kernel.org", "seanjc@google.com"]);
    assert.deepEqual(got.cc, ["hare@suse.de", "linux-kernel@vger.kernel.org", "odd@example.org"]);
  });
});

describe("maintainersLookup", () => {
  const files: Record<string, string> = { MAINTAINERS, "drivers/input/touch.c": "ABS_MT_SLOT" };
  const tree = { dir: "/nonexistent", fileAt: async (_commit: string, path: string) => files[path] };
  const noCheckout = async (): Promise<string> => assert.fail("file mode reads git objects, never a checkout");
  it("reads MAINTAINERS and contents at the commit, adding the guilty file", async () => {
    const got = await maintainersLookup("file")(tree, "c0ffee", ["block/genhd.c"], "drivers/input/touch.c", noCheckout);
    assert.deepEqual(got.to, ["axboe@kernel.dk", "linux-block@vger.kernel.org"]);
    assert.deepEqual(got.cc, ["linux-kernel@vger.kernel.org", "mt@example.org"]);
  });
  it("a tree without MAINTAINERS has nobody to tell", async () => {
    const empty = { dir: "/nonexistent", fileAt: async () => undefined };
    assert.deepEqual(await maintainersLookup("file")(empty, "c0ffee", ["a.c"], "", noCheckout), { to: [], cc: [] });
  });
  it("script mode needs the script", async () => {
    await assert.rejects(maintainersLookup("script")(tree, "c0ffee", ["a.c"], "", noCheckout), /no scripts\/get_maintainer\.pl/);
  });
});

describe("maintainersLookup (script)", () => {
  it("runs get_maintainer.pl of the culprit's own tree, with file names after --", async () => {
    const dir = mkdtempSync(join(tmpdir(), "culprit-getmaint-"));
    try {
      const repoDir = join(dir, "repo");
      mkdirSync(join(repoDir, "scripts"), { recursive: true });
      const script = (who: string): string =>
        `my $seen = 0; print "${who} <${who}\\@example.org> (maintainer:CORE)\\n";\n` +
        `for my $a (@ARGV) { if ($seen) { my $n = $a; $n =~ s/[^a-z]//g; print "f-$n\\@example.org (reviewer:$a)\\n" } $seen = 1 if $a eq "--"; }\n`;
      const git = (...args: string[]) => execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.org", ...args], { cwd: repoDir });
      git("init", "-q");
      writeFileSync(join(repoDir, "scripts", "get_maintainer.pl"), script("old"));
      git("add", "-A");
      git("commit", "-qm", "old");
      const culpritCommit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoDir, encoding: "utf8" }).trim();
      writeFileSync(join(repoDir, "scripts", "get_maintainer.pl"), script("new"));
      git("commit", "-qam", "new");
      const repo = await Repo.open(repoDir);
      const checkout = join(dir, "culprit-tree");
      const got = await maintainersLookup("script")(repo, culpritCommit, ["--git", "mm/slub.c"], "", async () => {
        await repo.run(["worktree", "add", "--detach", checkout, culpritCommit]);
        return checkout;
      });
      assert.deepEqual(got.to, ["old@example.org"]);
      assert.deepEqual(got.cc, ["f-git@example.org", "f-mmslubc@example.org"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
