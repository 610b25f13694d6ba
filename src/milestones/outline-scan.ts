import { headingInfo, outlineOf, type HeadingInfo, type Outline } from './outline.js';

/**
 * The outline of a milestone body read line by line, without a markdown parser, for the bodies where that gives
 * exactly what a CommonMark parse (markdown.ts) gives; undefined for any other body, which is then parsed.
 *
 * Exact because only constructs whose block structure is decided by their first character at column 0 are
 * accepted (CommonMark 0.31, "Blocks and inlines"): an ATX heading (`#` to `######`, then a space or the end of
 * the line) at column 0 is always a top-level heading (it interrupts a paragraph, and a line at column 0 cannot
 * continue a list item or a quote except as a paragraph's lazy continuation); a fence (```` ``` ````, `~~~`) at
 * column 0 opens a top-level code block that only its closing fence ends; `<!--` at column 0 opens an HTML block
 * that ends at the first line containing `-->`. Anything that could change that reading makes the scanner give
 * up: a `#`, fence, `<` or `>` after indentation (inside a list item or indented code), any other HTML block, a
 * possible setext underline (`===` or `---` under a line of text), and heading text with inline markup (emphasis,
 * code, links, HTML, entities, escapes) or tabs, whose plain text needs the inline parser.
 */
export function scanOutline(body: string): Outline | undefined {
  if (body.includes('\r')) return undefined; // the loader normalises line endings; anything else is not ours to guess
  const headings: HeadingInfo[] = [];
  let text = false;
  let fence: { char: string; length: number } | undefined;
  let previousBlank = true;
  let offset = 0;
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const start = offset;
    offset += line.length + 1;
    if (fence) {
      if (closesFence(line, fence)) fence = undefined;
      previousBlank = false;
      continue;
    }
    if (/^[ \t]*$/.test(line)) {
      previousBlank = true;
      continue;
    }
    const first = line[0]!;
    if (first === ' ' || first === '\t') {
      // Indented: list item content, indented code or a paragraph's continuation. Text, unless its first
      // character could start a heading, fence, HTML block or quote, or it could underline the line before.
      if (/^[ \t]+[#`~<>]/.test(line) || (!previousBlank && isSetextUnderline(line))) return undefined;
      text = true;
      previousBlank = false;
      continue;
    }
    if (first === '#') {
      const atx = /^(#{1,6})(?:[ ](.*))?$/.exec(line);
      if (atx) {
        const content = headingContent(atx[2] ?? '');
        if (content === undefined) return undefined;
        headings.push(headingInfo(atx[1]!.length, content, start, start + line.length));
        previousBlank = false;
        continue;
      }
      if (/^#{1,6}\t/.test(line)) return undefined;
    } else if (first === '`' || first === '~') {
      const open = /^(`{3,}|~{3,})(.*)$/.exec(line);
      if (open) {
        if (first === '`' && open[2]!.includes('`')) return undefined; // not a fence: an inline code span
        fence = { char: first, length: open[1]!.length };
        text = true;
        previousBlank = false;
        continue;
      }
    } else if (first === '<') {
      if (!line.startsWith('<!--')) return undefined;
      const block = htmlCommentBlock(lines, i);
      if (block === undefined) return undefined;
      if (!block.isComment) text = true;
      for (let j = i + 1; j <= block.lastLine; j++) offset += lines[j]!.length + 1;
      i = block.lastLine;
      previousBlank = false;
      continue;
    } else if ((first === '=' || first === '-') && !previousBlank && isSetextUnderline(line)) {
      return undefined;
    }
    text = true;
    previousBlank = false;
  }
  return outlineOf(body, headings, text ? 'text' : headings.length > 0 ? 'headings' : 'none');
}

/**
 * An ATX heading's text: the line after the opening `#`s, without the optional closing sequence (`## Tasks ##`).
 * Undefined when it holds anything the inline parser could turn into something else (markup, escapes, entities)
 * or a tab.
 */
function headingContent(raw: string): string | undefined {
  if (/[\\`*_[\]<>!&~\t]/.test(raw)) return undefined;
  const trimmed = raw.replace(/ +$/, '');
  if (/^#+$/.test(trimmed.trimStart())) return ''; // `### ###`: an empty heading
  return trimmed.replace(/ #+$/, '');
}

/** A closing fence: the same character, at least as long, indented at most 3 spaces, nothing after it but spaces. */
function closesFence(line: string, fence: { char: string; length: number }): boolean {
  const close = /^ {0,3}(`{3,}|~{3,})[ \t]*$/.exec(line);
  return close !== null && close[1]![0] === fence.char && close[1]!.length >= fence.length;
}

/** A line that would turn the paragraph above it into a setext heading: only `=` or only `-`, indented at most 3. */
function isSetextUnderline(line: string): boolean {
  return /^ {0,3}(=+|-+)[ \t]*$/.test(line);
}

/**
 * The HTML block that `<!--` at column 0 opens on line `first`: it ends on the first line containing `-->`
 * (searched after the opening `<!--`, so `<!-->` is not taken for its end; such odd forms give undefined), or at
 * the end of the body. It is a comment, and carries no content, when nothing but spaces follows its `-->`.
 */
function htmlCommentBlock(lines: readonly string[], first: number): { lastLine: number; isComment: boolean } | undefined {
  const opening = lines[first]!;
  if (opening.startsWith('<!-->') || opening.startsWith('<!--->')) return undefined;
  for (let j = first; j < lines.length; j++) {
    const line = lines[j]!;
    const end = line.indexOf('-->', j === first ? 4 : 0);
    if (end >= 0) return { lastLine: j, isComment: line.slice(end + 3).trim() === '' };
  }
  // Unterminated: the block runs to the end and its text does not end with "-->" unless the body's last
  // characters happen to be that; the parse decides such odd files.
  return undefined;
}
