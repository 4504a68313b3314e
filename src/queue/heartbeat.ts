// A worker's heartbeat to the server: what it has in hand, every `heartbeatMs` and as soon as that
// changes (one call at a time; changes meanwhile go in the next). A heartbeat that fails is not
// retried: the next one says the same, and a server that hears none shows the worker as gone,
// which is the truth it can see. A server that does not know the worker (a new database) is
// told who it is again.

import { UserError } from "../core/errors.js";
import type { Announcement, WorkInHand } from "./presence.js";
import type { ServerClient } from "./serverClient.js";

export class Heartbeats {
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> | undefined;
  private pending = false;
  private stopped = false;

  constructor(
    private readonly server: ServerClient,
    private readonly worker: Announcement,
    private readonly doing: () => WorkInHand[],
  ) {}

  /** Announces the worker (a failure here is the caller's: the worker does not start unseen), then beats. */
  async start(): Promise<void> {
    try {
      await this.server.announce(this.worker);
    } catch (err) {
      throw new UserError(`culprit serve did not take this worker: ${err instanceof Error ? err.message : String(err)}`, "check --name, --builds and --runs, and that the server runs the same culprit version");
    }
    this.timer = setInterval(() => this.beat(), this.worker.heartbeatMs);
    this.timer.unref();
  }

  /** Sends what is in hand now, or right after the heartbeat being sent. */
  beat(): void {
    if (this.stopped) return;
    if (this.sending) {
      this.pending = true;
      return;
    }
    this.sending = this.send(false).finally(() => {
      this.sending = undefined;
      if (this.pending) {
        this.pending = false;
        this.beat();
      }
    });
  }

  /** The last heartbeat: stopped, nothing in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.sending;
    await this.send(true);
  }

  private async send(stopped: boolean): Promise<void> {
    const beat = { doing: stopped ? [] : this.doing(), ...(stopped ? { stopped } : {}) };
    try {
      if (!(await this.server.heartbeat(this.worker.name, beat))) {
        await this.server.announce(this.worker);
        await this.server.heartbeat(this.worker.name, beat);
      }
    } catch {
      // Unheard: the server shows this worker as gone until a heartbeat gets through.
    }
  }
}
