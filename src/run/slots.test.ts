import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Slots, type Release } from "./slots.js";

/** A signal of its own for each waiter, as each job has (one shared by forty would warn of a leak). */
const never = (): AbortSignal => new AbortController().signal;

describe("Slots", () => {
  it("never holds more than its size, however many ask at once", async () => {
    const slots = new Slots(3);
    let now = 0;
    let most = 0;
    const work = async (): Promise<void> => {
      now++;
      most = Math.max(most, now);
      // Other workers get their turn to start while this one holds its slot.
      for (let i = 0; i < 5; i++) await Promise.resolve();
      now--;
    };
    await Promise.all(Array.from({ length: 40 }, () => slots.use(never(), work)));
    assert.equal(most, 3);
    assert.deepEqual([slots.inUse, slots.waiting], [0, 0]);
  });

  it("serves waiters oldest first, a slot given back going straight to the next", async () => {
    const slots = new Slots(1);
    const first = (await slots.acquire(never())) as Release;
    const order: string[] = [];
    const waiting = ["a", "b", "c"].map((name) => slots.acquire(never()).then((release) => (order.push(name), release)));
    assert.equal(slots.waiting, 3);
    first();
    first(); // a second release of the same slot gives nothing back
    const a = (await waiting[0]) as Release;
    assert.deepEqual([order, slots.inUse], [["a"], 1]);
    a();
    ((await waiting[1]) as Release)();
    ((await waiting[2]) as Release)();
    assert.deepEqual(order, ["a", "b", "c"]);
    assert.deepEqual([slots.inUse, slots.waiting], [0, 0]);
  });

  it("lets a waiter whose signal aborts leave the line at once, holding nothing, its work never run", async () => {
    const slots = new Slots(1);
    const held = (await slots.acquire(never())) as Release;
    const cancel = new AbortController();
    let ran = false;
    const given = slots.use(cancel.signal, async () => {
      ran = true;
    });
    const behind = slots.acquire(never());
    cancel.abort();
    assert.equal(await given, undefined);
    assert.equal(slots.waiting, 1, "only the other waiter is left");
    held();
    ((await behind) as Release)();
    assert.deepEqual([ran, slots.inUse, slots.waiting], [false, 0, 0]);
    assert.equal(await slots.acquire(cancel.signal), undefined, "an aborted signal gets no slot");
    assert.equal(slots.inUse, 0);
  });

  it("gives the slot back when the work throws", async () => {
    const slots = new Slots(1);
    await assert.rejects(slots.use(never(), () => Promise.reject(new Error("build broke"))), /build broke/);
    assert.equal(slots.inUse, 0);
  });
});
