// Placeholder kernel parser: the first oops header line becomes the title.
import type { CrashReport } from "./types.js";
import { lineText } from "./text.js";
import { normaliseTitle, kernelTypeOfTitle, frameOfTitle } from "./titles.js";

const header = /BUG:|WARNING:|INFO:|general protection fault|Kernel panic|kernel BUG|Unable to handle kernel|divide error:|invalid opcode:|UBSAN:/g;

export function findKernelCrash(log: string, starts: readonly number[], lineOf: (offset: number) => number): CrashReport | null {
  header.lastIndex = 0;
  const m = header.exec(log);
  if (!m) return null;
  const line = lineOf(m.index);
  const text = lineText(log, starts, line);
  let title = normaliseTitle(text.slice(text.indexOf(m[0])));
  if (title.startsWith("WARNING: possible circular locking")) {
    for (let i = line + 1; i < Math.min(starts.length, line + 10); i++) {
      const at = /at: ([a-zA-Z0-9_]+)[.+]/.exec(lineText(log, starts, i));
      if (at) { title = `possible deadlock in ${at[1]}`; break; }
    }
  }
  return { title, alt: [], type: kernelTypeOfTitle(title), frame: frameOfTitle(title), guiltyFile: "", corrupted: false, corruptedReason: "", report: text, startLine: line, endLine: line, suppressed: false, crashState: [] };
}
