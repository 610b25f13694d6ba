import { stripComments } from './outline.js';

export interface Mention {
  /** The milestone id, upper-cased. */
  id: string;
  /** Offset of the id in the text that was read. */
  offset: number;
}

export interface DependencySectionReading {
  /** Every id mentioned, in order, duplicates included (the caller merges). */
  mentions: Mention[];
  /** Lower-case ids standing alone (`1a`): not read as dependencies, but worth a warning. */
  lowercaseMentions: Mention[];
  /** The section says there are none: `None`, `None (first milestone)`, `-`, `N/A`. */
  saysNone: boolean;
}

/** `1A` on its own, case-sensitive, so words like `2d` or `A1B` are not taken for ids. */
const BARE_ID = /\b[1-9][A-Z]\b/g;
/** After the word "milestone" the intent is clear, so `Milestone 2c` counts too. */
const NAMED_ID = /\bmilestones?[\s:#-]*([1-9][a-z])\b/gi;
const LOWERCASE_ID = /\b[1-9][a-z]\b/g;
const NONE = /^(?:none|n\/a|na|nothing|no dependencies|no prior milestones?|[-–—])(?:[^\p{L}\p{N}]|$)/iu;

/**
 * Reads the ids a Dependencies section mentions. HTML comments are skipped so that a commented-out
 * dependency (`<!-- - 1B -->`) really is out.
 */
export function readDependencySection(text: string): DependencySectionReading {
  const visible = stripComments(text);
  const mentions = new Map<number, Mention>();
  for (const match of visible.matchAll(BARE_ID)) mentions.set(match.index, { id: match[0], offset: match.index });
  for (const match of visible.matchAll(NAMED_ID)) {
    const offset = match.index + match[0].length - 2;
    mentions.set(offset, { id: (match[1] ?? '').toUpperCase(), offset });
  }
  const lowercaseMentions = [...visible.matchAll(LOWERCASE_ID)]
    .filter((match) => !mentions.has(match.index))
    .map((match) => ({ id: match[0].toUpperCase(), offset: match.index }));
  return {
    mentions: [...mentions.values()].sort((a, b) => a.offset - b.offset),
    lowercaseMentions,
    saysNone: NONE.test(firstLine(visible)),
  };
}

/** The first non-empty line without list markers or emphasis. */
function firstLine(text: string): string {
  const line = text.split('\n').find((candidate) => candidate.trim() !== '') ?? '';
  return line
    .trim()
    .replace(/^(?:[*+]|-(?=\s)|\d+[.)])\s+/, '')
    .replace(/[*_`]/g, '')
    .trim();
}
