import type { Heading, Nodes, Root, RootContent } from 'mdast';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
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
  /** Top-level nodes that carry content: not HTML comments. */
  contentNodes: RootContent[];
  /** Text between the title and the first other heading, trimmed: free-form description. */
  preamble: string;
}

export function parseMarkdown(body: string): Root {
  return unified().use(remarkParse).parse(body);
}

export function outlineMarkdown(body: string): Outline {
  const root = parseMarkdown(body);
  const contentNodes = root.children.filter((node) => !isComment(node));
  const headings = root.children.filter((node): node is Heading => node.type === 'heading').map(headingInfo);
  const { title, titleIsH1 } = findTitle(headings);
  const sections = sectionSpans(headings, body.length);
  return { headings, title, titleIsH1, sections, contentNodes, preamble: preamble(body, headings, title) };
}

function isComment(node: RootContent): boolean {
  return node.type === 'html' && /^<!--[\s\S]*-->$/.test(node.value.trim());
}

function headingInfo(node: Heading): HeadingInfo {
  const text = plainText(node).trim();
  return {
    depth: node.depth,
    text,
    key: sectionKeyOf(text),
    start: node.position?.start.offset ?? 0,
    end: node.position?.end.offset ?? 0,
  };
}

/** The text a reader sees: emphasis, code and links flattened. */
function plainText(node: Nodes): string {
  if ('value' in node && typeof node.value === 'string') return node.type === 'html' ? '' : node.value;
  if (node.type === 'image') return node.alt ?? '';
  if ('children' in node) return (node.children as Nodes[]).map(plainText).join('');
  return '';
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
