import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { DEFAULT_RELEASE_PICK, pickReleases } from "./releasePick.js";
import { sortReleasesNewestFirst } from "./releases.js";

const tags = (names: string): { tag: string }[] => names.split(/\s+/).filter(Boolean).map((tag) => ({ tag }));
const names = (picked: { tag: string }[]): string => picked.map((r) => r.tag).join(" ");

describe("kernel release order", () => {
  const cases: [string, string, string][] = [
    ["rc before its release", "v5.13 v5.13-rc7 v5.13-rc1 v5.12", "v5.13 v5.13-rc7 v5.13-rc1 v5.12"],
    ["numeric, not lexical", "v5.9 v5.10 v5.2 v4.20", "v5.10 v5.9 v5.2 v4.20"],
    ["rc10 after rc9", "v5.13-rc9 v5.13-rc10 v5.13-rc2", "v5.13-rc10 v5.13-rc9 v5.13-rc2"],
    ["point releases after their base", "v6.1 v6.1.10 v6.1.9 v6.1.1 v6.2-rc1", "v6.2-rc1 v6.1.10 v6.1.9 v6.1.1 v6.1"],
    ["non-release tags are dropped", "v6.1 latest v6.1-foo next-20210101", "v6.1"],
  ];
  for (const [name, input, want] of cases) {
    it(name, () => assert.equal(names(sortReleasesNewestFirst(input.split(" "))), want));
  }
});

describe("pickReleases", () => {
  // Mainline from v6.6 back to v4.0 (v5.0 follows v4.20, v6.0 follows v5.19), with rc tags.
  const mainline: string[] = [];
  for (let minor = 6; minor >= 0; minor--) mainline.push(`v6.${minor}`, `v6.${minor}-rc1`);
  for (let minor = 19; minor >= 0; minor--) mainline.push(`v5.${minor}`);
  for (let minor = 20; minor >= 0; minor--) mainline.push(`v4.${minor}`);

  const cases: [string, { tag: string }[], Partial<typeof DEFAULT_RELEASE_PICK>, string][] = [
    ["empty", [], {}, ""],
    ["fewer than the newest few: all of them", tags("v5.13 v5.12 v5.11"), {}, "v5.13 v5.12 v5.11"],
    ["rc tags are skipped by default", tags("v5.14-rc3 v5.13 v5.13-rc7 v5.12"), {}, "v5.13 v5.12"],
    ["rc tags when asked", tags("v5.14-rc3 v5.13 v5.13-rc7 v5.12"), { includeRc: true }, "v5.14-rc3 v5.13 v5.13-rc7 v5.12"],
    [
      "a long history thins out, keeping the oldest",
      tags(mainline.join(" ")),
      {},
      "v6.6 v6.5 v6.4 v6.2 v6.0 v5.18 v5.16 v5.14 v5.11 v5.8 v5.5 v5.2 v4.20 v4.17 v4.14 v4.11 v4.8 v4.5 v4.2 v4.0",
    ],
    ["never below the floor", tags(mainline.join(" ")), { oldest: "v5.15" }, "v6.6 v6.5 v6.4 v6.2 v6.0 v5.18 v5.16 v5.15"],
    ["a cap keeps the newest and the floor", tags(mainline.join(" ")), { max: 5 }, "v6.6 v6.5 v6.4 v6.2 v4.0"],
    [
      "a stable tree: the newest point releases and the middle one, then bases",
      tags("v6.1.9 v6.1.8 v6.1.7 v6.1.6 v6.1.5 v6.1.4 v6.1.3 v6.1.2 v6.1.1 v6.1 v6.0 v5.19 v5.18"),
      {},
      "v6.1.9 v6.1.8 v6.1.5 v6.1 v6.0 v5.19 v5.18",
    ],
    ["input order does not matter", tags("v5.11 v5.13 v5.12"), {}, "v5.13 v5.12 v5.11"],
  ];
  for (const [name, input, policy, want] of cases) {
    it(name, () => assert.equal(names(pickReleases(input, { ...DEFAULT_RELEASE_PICK, ...policy })), want));
  }

  it("keeps the caller's objects (commits ride along)", () => {
    const releases = [{ tag: "v5.13", commit: "62fb98" }, { tag: "v5.12", commit: "9f4ad9" }];
    assert.deepEqual(pickReleases(releases), releases);
  });
});
