// A run's console is kept bounded: its head (where a crash report usually starts) and its tail
// (where the last one ends), with a line saying how much was cut between them.

import { open, stat } from "node:fs/promises";

/** Default bytes kept of one run's output. */
export const DEFAULT_OUTPUT_LIMIT = 4 * 1024 * 1024;

/** Cuts `file` to its first and last limit/2 bytes, in place; reads only the tail it keeps. */
export async function keepHeadAndTail(file: string, limit: number): Promise<void> {
  const size = await stat(file).then((s) => s.size, () => 0);
  if (size <= limit) return;
  const half = Math.floor(limit / 2);
  const handle = await open(file, "r+");
  try {
    const tail = Buffer.alloc(half);
    await handle.read(tail, 0, half, size - half);
    const marker = Buffer.from(`\n… culprit kept the first and last ${half} bytes: ${size - 2 * half} bytes cut here …\n`);
    await handle.write(marker, 0, marker.length, half);
    await handle.write(tail, 0, half, half + marker.length);
    await handle.truncate(half + marker.length + half);
  } finally {
    await handle.close();
  }
}
