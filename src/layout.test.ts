// The folder layout of design.md, checked on the sources: no import cycles between folders,
// core depends on nothing outside itself, and targets/ is wired from above, never imported by
// build/ or run/. Test files may reach across (they use kits from other folders).

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "src");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [path] : [];
  });
}

/** The top folder under src/ of a file. */
function folderOf(file: string): string {
  return relative(SRC, file).split("/")[0] as string;
}

/** Folder → folders its (non-test) sources import. */
export function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sources(SRC)) {
    const from = folderOf(file);
    const deps = graph.get(from) ?? new Set<string>();
    graph.set(from, deps);
    for (const m of readFileSync(file, "utf8").matchAll(/^(?:import|export)[^;]*?from "(\.{1,2}\/[^"]+)"/gms)) {
      const to = folderOf(resolve(dirname(file), m[1] as string));
      if (to !== from) deps.add(to);
    }
  }
  return graph;
}

/** Every cycle, as "a → b → a", found by depth-first search. */
export function cyclesOf(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): void => {
    state.set(node, "open");
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...path.slice(path.indexOf(next)), next].join(" → "));
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("layout", () => {
  it("finds a cycle when there is one (the check can fail)", () => {
    const graph = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])], ["d", new Set(["a"])]]);
    assert.deepEqual(cyclesOf(graph), ["a → b → c → a"]);
  });

  const graph = folderGraph();
  it("has no import cycles between folders", () => assert.deepEqual(cyclesOf(graph), []));
  it("core imports nothing outside core", () => assert.deepEqual([...(graph.get("core") ?? [])], []));
  it("build/ and run/ never import targets/", () => {
    for (const folder of ["build", "run"]) assert.equal(graph.get(folder)?.has("targets"), false, folder);
  });
  it("bisect/ and store/ never import queue/ (the queue is wired from above)", () => {
    for (const folder of ["bisect", "store"]) assert.equal(graph.get(folder)?.has("queue"), false, folder);
  });
  it("reads the real sources", () => assert.ok(graph.has("bisect") && graph.get("bisect")?.has("core")));
});
