// Line bookkeeping shared by the parsers: a console log is scanned line by line, and reports
// remember which lines they came from.

/** Start offsets of every line in `text` (a trailing newline does not start an extra line). */
export function lineStarts(text: string): number[] {
  const starts = [0];
  let pos = text.indexOf("\n");
  while (pos !== -1 && pos + 1 < text.length) {
    starts.push(pos + 1);
    pos = text.indexOf("\n", pos + 1);
  }
  return starts;
}

/** 0-based line number of the line holding `offset`, by binary search over `starts`. */
export function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] ?? 0) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The text of line `n` without its newline (and without a trailing carriage return). */
export function lineText(text: string, starts: readonly number[], n: number): string {
  const start = starts[n] ?? text.length;
  const next = starts[n + 1];
  let end = next === undefined ? text.length : next - 1;
  if (next === undefined && end > start && text.charCodeAt(end - 1) === 10) end--;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return text.slice(start, end);
}

/** Escapes a literal for use inside a RegExp. */
export function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
