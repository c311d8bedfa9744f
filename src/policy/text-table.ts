// Plain-text tables for the terminal: columns padded to their widest cell, the last one left free.

/**
 * The lines of a table: the head, then each row. `rows` is walked twice, once for the widths and
 * once for the lines, and need not be held whole: a table may be larger than memory holds as one.
 */
export function* textTable(head: readonly string[], rows: Iterable<readonly string[]>): Generator<string> {
  // a fold, not Math.max(...): a table may have more rows than a call takes arguments
  const widths = head.map((h) => h.length);
  for (const row of rows) {
    for (let k = 0; k < widths.length - 1; k++)
      widths[k] = Math.max(widths[k] as number, (row[k] ?? "").length);
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, k) => (k < head.length - 1 ? cell.padEnd(widths[k] ?? 0) : cell))
      .join("  ")
      .trimEnd();
  yield line(head);
  for (const row of rows) yield line(row);
}
