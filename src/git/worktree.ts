// Isolated checkouts for building. Each slot is one `git worktree` under the work dir, reused
// from commit to commit; the user's working tree and index are never touched.

import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Repo } from "./git.js";

export class Worktrees {
  private readonly created = new Set<string>();
  private adding: Promise<void> = Promise.resolve();

  constructor(
    private readonly repo: Repo,
    private readonly dir: string,
    /** Remove untracked and ignored files before each checkout (correct, but no incremental builds). */
    private readonly clean: boolean,
  ) {}

  /**
   * Checks `commit` out in slot `slot` and returns the checkout's path. `scrub`: remove untracked
   * and ignored files this time even where builds are incremental (a build killed in this slot
   * may have left an object file half written, which make would take as up to date).
   */
  async checkout(slot: number, commit: string, scrub = false): Promise<string> {
    const path = join(this.dir, `slot-${slot}`);
    if (!this.created.has(path)) {
      // One slot is added at a time: a prune running beside an add removes the half-made
      // worktree's registration, and the add fails.
      const added = this.adding.then(() => this.add(path, commit));
      this.adding = added.catch(() => undefined);
      await added;
      return path;
    }
    await this.repo.run(["checkout", "--detach", "--force", "--quiet", commit], { cwd: path });
    if (this.clean || scrub) await this.repo.run(["clean", "-ffdxq"], { cwd: path });
    return path;
  }

  private async add(path: string, commit: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // A slot left by a killed run is replaced, not trusted; --force re-adds a path still
    // registered from then (no prune needed first).
    await rm(path, { recursive: true, force: true });
    await this.repo.run(["worktree", "add", "--detach", "--force", path, commit]);
    this.created.add(path);
  }

  /** Removes every slot this object made, and any stale registration of them. */
  async removeAll(): Promise<void> {
    // Deleting the directory and pruning is what `worktree remove --force` amounts to, without
    // its scan of every untracked file (minutes on a built kernel tree).
    for (const path of this.created) await rm(path, { recursive: true, force: true });
    this.created.clear();
    // The whole dir before the prune: a slot a killed predecessor left, and this start never
    // used, is gone then too, so its registration goes with the prune.
    await rm(this.dir, { recursive: true, force: true });
    await this.repo.run(["worktree", "prune"]).catch(() => undefined);
  }
}
