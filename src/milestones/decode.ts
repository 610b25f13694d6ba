import { error, type Diagnostic } from '../diagnostics.js';
import { bytePosition, firstInvalidUtf8Byte } from '../util/utf8.js';

export type DecodeResult = { text: string; diagnostic?: undefined } | { text?: undefined; diagnostic: Diagnostic };

const SAVE_AS_UTF8 = 'save the file as UTF-8 text (most editors offer this in "Save with encoding")';

/** Bytes of a milestone file -> text, or a diagnostic pointing at the first byte that is not UTF-8 text. */
export function decodeMilestoneBytes(bytes: Uint8Array, file: string): DecodeResult {
  if (startsWithUtf16Bom(bytes)) {
    return { diagnostic: error('not-utf8', 'the file is UTF-16 encoded, not UTF-8', { file, line: 1, col: 1, hint: SAVE_AS_UTF8 }) };
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1 && looksLikeBomlessUtf16(bytes)) {
    // Windows tools (PowerShell's `>` and Out-File) write UTF-16 without a BOM; "binary" would be a riddle.
    return { diagnostic: error('not-utf8', 'the file looks UTF-16 encoded (without a byte-order mark), not UTF-8', { file, line: 1, col: 1, hint: SAVE_AS_UTF8 }) };
  }
  if (nul !== -1) {
    const at = bytePosition(bytes, nul);
    const message = `the file looks binary: it contains a NUL byte on line ${at.line}`;
    return { diagnostic: error('binary', message, { file, ...at, hint: `milestone files must be plain text; ${SAVE_AS_UTF8}` }) };
  }
  const bad = firstInvalidUtf8Byte(bytes);
  if (bad !== -1) {
    const at = bytePosition(bytes, bad);
    const message = `the file is not valid UTF-8: byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0')} on line ${at.line} cannot be decoded`;
    return { diagnostic: error('not-utf8', message, { file, ...at, hint: SAVE_AS_UTF8 }) };
  }
  return { text: new TextDecoder('utf-8').decode(bytes) };
}

/** Mostly-ASCII text in UTF-16: every other byte is NUL, the bytes between are not. */
function looksLikeBomlessUtf16(bytes: Uint8Array): boolean {
  const pairs = Math.min(256, Math.floor(bytes.length / 2));
  if (pairs < 2) return false;
  let evenNul = 0;
  let oddNul = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (bytes[i] === 0) evenNul++;
    if (bytes[i + 1] === 0) oddNul++;
  }
  const mostly = (n: number) => n >= pairs * 0.9;
  const rarely = (n: number) => n <= pairs * 0.1;
  return (mostly(oddNul) && rarely(evenNul)) || (mostly(evenNul) && rarely(oddNul));
}

function startsWithUtf16Bom(bytes: Uint8Array): boolean {
  return (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
}

