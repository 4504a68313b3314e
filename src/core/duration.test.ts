import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { goDuration } from "./duration.js";

describe("Go-style durations", () => {
  const ms = (h: number, m: number, s: number): number => ((h * 60 + m) * 60 + s) * 1000;
  const cases: [number, string][] = [
    [0, "0s"],
    [1.5, "1.5ms"],
    [0.000001, "1ns"],
    [0.25, "250µs"],
    [999, "999ms"],
    [1000, "1s"],
    [ms(0, 0, 61), "1m1s"],
    [ms(2, 0, 0), "2h0m0s"],
    [ms(4, 25, 15) + 340.713187, "4h25m15.340713187s"],
    [ms(0, 2, 0) + 5.5, "2m0.0055s"],
  ];
  for (const [input, want] of cases) it(`${input} ms → ${want}`, () => assert.equal(goDuration(input), want));
});
