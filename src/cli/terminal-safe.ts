/**
 * Text from files a person or another program may have tampered with (the run state, the lock, git's worktree lock
 * reasons, agents' output) must not drive the terminal: an ESC or C1 sequence in a task title could clear the
 * screen, retitle the window, write the clipboard (OSC 52) or hide a line. These helpers make such characters
 * visible instead (`\x1b`, `\u009b`), so nothing is lost and nothing is interpreted.
 *
 * Escaped: C0 controls (U+0000–U+001F) except the layout a printer itself uses (newline, tab, when `multiline`),
 * DEL, C1 controls (U+0080–U+009F), the Unicode line and paragraph separators, and the bidirectional overrides and
 * isolates (U+202A–U+202E, U+2066–U+2069) that reorder what a line appears to say. A CR before LF is dropped
 * (Windows line endings in a check's output), a lone CR is escaped (it would overwrite the start of the line).
 */
export function terminalSafe(text: string, opts: { multiline?: boolean } = {}): string {
  const multiline = opts.multiline ?? true;
  return text.replace(/\r\n/g, multiline ? '\n' : '\r\n').replace(UNSAFE, (c) => {
    if (multiline && (c === '\n' || c === '\t')) return c;
    return escapeChar(c);
  });
}

/**
 * JSON text for a terminal or a pipe: `JSON.stringify` already escapes C0 controls, but writes C1 controls, the
 * line separators and the bidirectional controls raw; this writes them as `\uXXXX`, which parses to the same value.
 */
export function safeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(c: string): string {
  switch (c) {
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    default: {
      const code = c.charCodeAt(0);
      return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
    }
  }
}
