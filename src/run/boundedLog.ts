// A run's console is kept bounded while it is written: its head (where a crash report usually
// starts) goes straight to the file, and only its last bytes are held in memory, so a reproducer
// printing gigabytes costs neither disk nor memory; a line says how much was cut between them.

import { writeSync } from "node:fs";

/** Default bytes kept of one run's output. */
export const DEFAULT_OUTPUT_LIMIT = 4 * 1024 * 1024;

/** Writes at most `limit` bytes (plus one marker line) of a stream of chunks to `fd`. */
export class BoundedLog {
  private readonly half: number;
  private written = 0;
  private seen = 0;
  /** The newest bytes past the head, oldest first; their total stays within `half` after trim. */
  private tail: Buffer[] = [];
  private tailBytes = 0;

  constructor(
    private readonly fd: number,
    limit: number,
  ) {
    this.half = Math.floor(limit / 2);
  }

  write(chunk: Buffer): void {
    this.seen += chunk.length;
    if (this.written < this.half) {
      const head = chunk.subarray(0, this.half - this.written);
      writeSync(this.fd, head);
      this.written += head.length;
      chunk = chunk.subarray(head.length);
      if (chunk.length === 0) return;
    }
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tail.length > 1 && this.tailBytes - (this.tail[0]?.length ?? 0) >= this.half) {
      this.tailBytes -= this.tail.shift()?.length ?? 0;
    }
  }

  /** Writes the kept tail, after a marker line when bytes were dropped. */
  finish(): void {
    let tail = Buffer.concat(this.tail);
    if (tail.length > this.half) tail = tail.subarray(tail.length - this.half);
    const cut = this.seen - this.written - tail.length;
    if (cut > 0) writeSync(this.fd, Buffer.from(`\n… culprit kept the first and last ${this.half} bytes: ${cut} bytes cut here …\n`));
    if (tail.length > 0) writeSync(this.fd, tail);
    this.tail = [];
    this.tailBytes = 0;
  }
}
