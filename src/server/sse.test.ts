import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { SseReader, sseMessages } from "./sse.js";

describe("SseReader", () => {
  it("splits messages across chunks, joins data lines, drops comments", () => {
    const reader = new SseReader();
    assert.deepEqual(reader.push("event: event\nid: 3\nda"), []);
    assert.deepEqual(reader.push("ta: {\"a\":1}\n\n: still running\n\n"), [{ event: "event", id: "3", data: '{"a":1}' }]);
    assert.deepEqual(reader.push("data: one\r\ndata: two\r\n\r\nevent: end\ndata:{}\n\n"), [
      { event: "message", data: "one\ntwo" },
      { event: "end", data: "{}" },
    ]);
  });

  it("reads a whole stream, its last message unterminated", () => {
    assert.deepEqual(sseMessages("event: end\ndata: x"), [{ event: "end", data: "x" }]);
  });
});
