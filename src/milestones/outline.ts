import { sectionKeyOf } from './section-names.js';
import type { SectionKey } from './types.js';

/** A top-level heading; offsets are into the markdown body. */
export interface HeadingInfo {
  depth: number;
  /** Plain text of the heading, trimmed. */
  text: string;
  key: SectionKey | undefined;
  start: number;
  end: number;
}

export interface SectionSpan {
  key: SectionKey;
  heading: HeadingInfo;
  /** The section's content runs from `contentStart` to `contentEnd` in the body (heading excluded). */
  contentStart: number;
  contentEnd: number;
}

export interface Outline {
  /** Top-level headings in order (headings inside lists or quotes are content, not structure). */
  headings: HeadingInfo[];
  title: HeadingInfo | undefined;
  /** Whether the title is a real `#` heading, or a fallback to the first non-section heading. */
  titleIsH1: boolean;
  /** Every recognised section in order, duplicates included. */
  sections: SectionSpan[];
  /**
   * What the top-level blocks that carry content (not HTML comments) are: none, headings only, or text too
   * (paragraphs, lists, code, quotes …).
   */
  content: 'none' | 'headings' | 'text';
  /** Text between the title and the first other heading, trimmed: free-form description. */
  preamble: string;
}

/**
 * The outline from the top-level headings (in order, `start`/`end` offsets into `body`) and what else the body
 * holds: the part shared by the fast scanner (outline-scan.ts) and the full CommonMark parse (markdown.ts).
 */
export function outlineOf(body: string, headings: HeadingInfo[], content: Outline['content']): Outline {
  const { title, titleIsH1 } = findTitle(headings);
  const sections = sectionSpans(headings, body.length);
  return { headings, title, titleIsH1, sections, content, preamble: preamble(body, headings, title) };
}

/** A heading's record from its depth, plain text (untrimmed) and offsets. */
export function headingInfo(depth: number, plain: string, start: number, end: number): HeadingInfo {
  const text = plain.trim();
  return { depth, text, key: sectionKeyOf(text), start, end };
}

/**
 * The first `#` heading that is not a section name. Without one, fall back to a non-section heading that comes
 * before every section (people often write the title as `## Milestone 1A`); the caller warns either way.
 */
function findTitle(headings: HeadingInfo[]): { title: HeadingInfo | undefined; titleIsH1: boolean } {
  const h1 = headings.find((heading) => heading.depth === 1 && heading.key === undefined);
  if (h1) return { title: h1, titleIsH1: true };
  const first = headings[0];
  return { title: first && first.key === undefined ? first : undefined, titleIsH1: false };
}

/**
 * A section runs until the next heading of the same or a higher level, or the next recognised section heading
 * at any level (so a `### Exit Criteria` under `## Tasks` is its own section, not part of Tasks).
 */
function sectionSpans(headings: HeadingInfo[], bodyLength: number): SectionSpan[] {
  const spans: SectionSpan[] = [];
  headings.forEach((heading, index) => {
    if (!heading.key) return;
    const next = headings.slice(index + 1).find((later) => later.depth <= heading.depth || later.key !== undefined);
    spans.push({ key: heading.key, heading, contentStart: heading.end, contentEnd: next?.start ?? bodyLength });
  });
  return spans;
}

function preamble(body: string, headings: HeadingInfo[], title: HeadingInfo | undefined): string {
  const start = title?.end ?? 0;
  const next = headings.find((heading) => heading.start >= start && heading !== title);
  return stripComments(body.slice(start, next?.start ?? body.length)).trim();
}

export function stripComments(text: string): string {
  return text.replace(/<!--[\s\S]*?-->/g, (comment) => comment.replace(/[^\n]/g, ' '));
}
