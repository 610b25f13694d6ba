import type { Heading, Nodes, RootContent } from 'mdast';
import remarkParse from 'remark-parse';
import { unified } from 'unified';
import { headingInfo, outlineOf, type Outline } from './outline.js';
import { scanOutline } from './outline-scan.js';

/**
 * The outline of a milestone body by a full CommonMark parse (remark). Loaded only for a body the line scanner
 * (outline-scan.ts) cannot read exactly: this module and the parser it imports are most of what validating
 * costs, so `--validate-only` on plain milestones never loads them.
 */
export function parseOutline(body: string): Outline {
  const root = unified().use(remarkParse).parse(body);
  const contentNodes = root.children.filter((node) => !isComment(node));
  const headings = root.children
    .filter((node): node is Heading => node.type === 'heading')
    .map((node) => headingInfo(node.depth, plainText(node), node.position?.start.offset ?? 0, node.position?.end.offset ?? 0));
  const content = contentNodes.length === 0 ? 'none' : contentNodes.every((node) => node.type === 'heading') ? 'headings' : 'text';
  return outlineOf(body, headings, content);
}

/** The outline of any body: the line scanner's when it can read the body exactly, else the full parse's. */
export function outlineMarkdown(body: string): Outline {
  return scanOutline(body) ?? parseOutline(body);
}

function isComment(node: RootContent): boolean {
  return node.type === 'html' && /^<!--[\s\S]*-->$/.test(node.value.trim());
}

/** The text a reader sees: emphasis, code and links flattened. */
function plainText(node: Nodes): string {
  if ('value' in node && typeof node.value === 'string') return node.type === 'html' ? '' : node.value;
  if (node.type === 'image') return node.alt ?? '';
  if ('children' in node) return (node.children as Nodes[]).map(plainText).join('');
  return '';
}
