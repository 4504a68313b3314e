// The commit graph of a bisection range, as plain arrays indexed by position.
// Index 0 is the oldest commit; every parent has a smaller index than its child
// (topological order), so one forward pass visits parents before children.

export interface CommitNode {
  hash: string;
  /** Parent hashes; parents outside the range are dropped when the graph is built. */
  parents: string[];
}

export class Dag {
  readonly hashes: readonly string[];
  /** parents[i] = indices of the parents of commit i inside the range. */
  readonly parents: readonly (readonly number[])[];
  readonly children: readonly (readonly number[])[];
  private readonly byHash: Map<string, number>;

  /** Builds from nodes in any order; throws if the nodes contain a cycle (a bug, never user input). */
  constructor(nodes: readonly CommitNode[]) {
    const known = new Map<string, CommitNode>();
    for (const node of nodes) known.set(node.hash, node);
    // Kahn's algorithm, oldest first; ties keep input order reversed so that `git rev-list`
    // output (newest first) becomes oldest first.
    const inDegree = new Map<string, number>();
    const kids = new Map<string, string[]>();
    for (const node of known.values()) {
      const inside = node.parents.filter((p) => known.has(p));
      inDegree.set(node.hash, inside.length);
      for (const p of inside) {
        const list = kids.get(p);
        if (list) list.push(node.hash);
        else kids.set(p, [node.hash]);
      }
    }
    const ordered: string[] = [];
    const ready = [...known.keys()].filter((h) => inDegree.get(h) === 0).reverse();
    while (ready.length > 0) {
      const hash = ready.pop() as string;
      ordered.push(hash);
      for (const child of kids.get(hash) ?? []) {
        const left = (inDegree.get(child) ?? 0) - 1;
        inDegree.set(child, left);
        if (left === 0) ready.push(child);
      }
    }
    if (ordered.length !== known.size) throw new Error("commit graph has a cycle");
    this.hashes = ordered;
    this.byHash = new Map(ordered.map((h, i) => [h, i]));
    this.parents = ordered.map((h) =>
      (known.get(h) as CommitNode).parents.filter((p) => this.byHash.has(p)).map((p) => this.byHash.get(p) as number),
    );
    const children: number[][] = ordered.map(() => []);
    this.parents.forEach((ps, i) => ps.forEach((p) => (children[p] as number[]).push(i)));
    this.children = children;
  }

  get size(): number {
    return this.hashes.length;
  }

  has(hash: string): boolean {
    return this.byHash.has(hash);
  }

  index(hash: string): number {
    const i = this.byHash.get(hash);
    if (i === undefined) throw new Error(`commit ${hash} is not in the bisection range`);
    return i;
  }

  hash(i: number): string {
    return this.hashes[i] as string;
  }

  /** Indices of i and all its ancestors inside the range, as a membership array. */
  ancestry(i: number): Uint8Array {
    const seen = new Uint8Array(this.size);
    const stack = [i];
    seen[i] = 1;
    while (stack.length > 0) {
      const at = stack.pop() as number;
      for (const p of this.parents[at] as number[]) {
        if (!seen[p]) {
          seen[p] = 1;
          stack.push(p);
        }
      }
    }
    return seen;
  }

  /** True when `a` is `b` or an ancestor of `b`. */
  isAncestor(a: number, b: number): boolean {
    if (a > b) return false;
    return this.ancestry(b)[a] === 1;
  }
}

/**
 * How many commits each of `commits` descends from, itself included: |ancestry(c)|. Taken oldest
 * first, a commit whose predecessor in that order is one of its ancestors only walks what lies
 * between the two (release tags on one line: one walk of the graph in all), else it walks alone.
 */
export function ancestorCounts(dag: Dag, commits: readonly number[]): Map<number, number> {
  const counts = new Map<number, number>();
  const order = [...new Set(commits)].sort((a, b) => a - b);
  let seen = new Uint8Array(dag.size);
  let total = 0;
  let previous = -1;
  for (const c of order) {
    // Walks from c through what `seen` lacks; reaching `previous` means seen ⊆ ancestry(c).
    let reached = previous < 0;
    const walk = (marks: Uint8Array): number => {
      let added = 0;
      const stack = [c];
      if (!marks[c]) {
        marks[c] = 1;
        added++;
      } else if (c === previous) reached = true;
      while (stack.length > 0) {
        const at = stack.pop() as number;
        for (const p of dag.parents[at] as readonly number[]) {
          if (marks[p]) {
            if (p === previous) reached = true;
            continue;
          }
          marks[p] = 1;
          added++;
          stack.push(p);
        }
      }
      return added;
    };
    const added = walk(seen);
    if (reached) total += added;
    else {
      seen = new Uint8Array(dag.size);
      total = walk(seen);
    }
    counts.set(c, total);
    previous = c;
  }
  return counts;
}

const ancestryCache = new WeakMap<Dag, Map<number, Uint8Array>>();

/** Ancestry of commit i (membership array), memoised per graph: the strategy is called again and again on one graph. */
export function cachedAncestry(dag: Dag, i: number): Uint8Array {
  let cache = ancestryCache.get(dag);
  if (!cache) {
    cache = new Map();
    ancestryCache.set(dag, cache);
  }
  let anc = cache.get(i);
  if (!anc) {
    // Bounded so a long session on a huge graph cannot grow without limit.
    if (cache.size >= 2048) cache.clear();
    anc = dag.ancestry(i);
    cache.set(i, anc);
  }
  return anc;
}
