// A fixed number of slots (builds, or test machines) shared by every bisection of one process:
// `culprit serve` gives all its jobs the same two, so twenty jobs at once still build N and run
// M at a time. Waiters are served oldest first; one whose signal aborts leaves the line at once.

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

export class Slots {
  private used = 0;
  private readonly line: { grant: (release: Release) => void }[] = [];

  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`slots need a whole size ≥ 1, got ${size}`);
  }

  /** Slots held now. */
  get inUse(): number {
    return this.used;
  }

  /** Callers waiting for one. */
  get waiting(): number {
    return this.line.length;
  }

  /** Waits for a free slot; undefined when `signal` aborts first (then nothing is held). */
  acquire(signal: AbortSignal): Promise<Release | undefined> {
    if (signal.aborted) return Promise.resolve(undefined);
    if (this.used < this.size) {
      this.used++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve) => {
      const waiter = {
        grant: (release: Release) => {
          signal.removeEventListener("abort", leave);
          resolve(release);
        },
      };
      const leave = (): void => {
        const at = this.line.indexOf(waiter);
        if (at >= 0) this.line.splice(at, 1);
        resolve(undefined);
      };
      signal.addEventListener("abort", leave, { once: true });
      this.line.push(waiter);
    });
  }

  /** Runs `work` holding a slot; undefined, without running it, when `signal` aborts while waiting. */
  async use<T>(signal: AbortSignal, work: () => Promise<T>): Promise<T | undefined> {
    const release = await this.acquire(signal);
    if (!release) return undefined;
    try {
      return await work();
    } finally {
      release();
    }
  }

  private releaser(): Release {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // Handed straight to the oldest waiter: the count never drops, so no newcomer jumps the line.
      const next = this.line.shift();
      if (next) next.grant(this.releaser());
      else this.used--;
    };
  }
}
