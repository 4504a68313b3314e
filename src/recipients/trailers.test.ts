import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { commitRecipients, emailOf } from "./trailers.js";

describe("commit recipients", () => {
  const cases: [string, string, { key: string; value: string }[], string[]][] = [
    ["author only", "A@X.org", [], ["a@x.org"]],
    [
      "reference culprit: author and two sign-offs, de-duplicated and lower-cased",
      "hch@lst.de",
      [
        { key: "Signed-off-by", value: "Christoph Hellwig <hch@lst.de>" },
        { key: "Link", value: "https://lore.kernel.org/r/20210406062303.811835-6-hch@lst.de" },
        { key: "Signed-off-by", value: "Jens Axboe <Axboe@Kernel.dk>" },
      ],
      ["axboe@kernel.dk", "hch@lst.de"],
    ],
    [
      "combined and other people trailers",
      "a@x.org",
      [
        { key: "Reviewed-and-tested-by", value: "R <r@x.org>" },
        { key: "Acked-by", value: "k@x.org" },
        { key: "Tested-by", value: "T <t@x.org>" },
        { key: "Reported-by", value: "syzbot <s@x.org>" },
        { key: "Cc", value: "c@x.org" },
      ],
      ["a@x.org", "k@x.org", "r@x.org", "t@x.org"],
    ],
  ];
  for (const [name, author, trailers, want] of cases) {
    it(name, () => assert.deepEqual(commitRecipients(author, trailers), want));
  }
  it("finds no address where there is none", () => assert.equal(emailOf("Somebody"), undefined));
});
