// The private Redis the queue tests stand on: it answers, keeps data across a crash when asked
// to, and leaves nothing behind.

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { startRedis } from "./redisServer.js";

describe("private redis-server", () => {
  it("answers on loopback, keeps an append-only file across a SIGKILL restart, and stops", { timeout: 60_000 }, async () => {
    const redis = await startRedis({ persist: true });
    try {
      assert.match(redis.url, /^redis:\/\/127\.0\.0\.1:\d+$/);
      const client = new Redis(redis.url, { maxRetriesPerRequest: null });
      try {
        await client.set("culprit:probe", "kept");
        await redis.restart();
        assert.equal(await client.get("culprit:probe"), "kept", "the client reconnects and the value survived the crash");
      } finally {
        client.disconnect();
      }
    } finally {
      await redis.stop();
    }
    const after = new Redis(redis.url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    await assert.rejects(after.connect(), "nothing listens once it is stopped");
    after.disconnect();
  });
});
