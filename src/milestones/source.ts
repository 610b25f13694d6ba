/**
 * Text positions. Files are normalised once (BOM stripped, every line ending turned into `\n`) so that
 * every later step can count lines the same way an editor does: CRLF, LF and a lone CR each end one line.
 */

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in UTF-16 code units (what JavaScript strings and most editors count). */
  col: number;
}

export function normaliseSource(raw: string): string {
  const withoutBom = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  return withoutBom.replace(/\r\n?/g, '\n');
}

/** Maps offsets in `text` (already normalised) to line and column. */
export function createLineIndex(text: string): (offset: number) => Position {
  const lineStarts = [0];
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  return (offset) => {
    let low = 0;
    let high = lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, col: offset - (lineStarts[low] ?? 0) + 1 };
  };
}
