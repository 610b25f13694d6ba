import { distance } from 'fastest-levenshtein';
import type { SectionKey } from './types.js';

/**
 * Heading names each section is recognised by, after normalising (case, surrounding punctuation, a trailing
 * colon, a trailing "(remark)", numbering like "2.", emoji, emphasis). Deliberately small: a broad list would swallow headings the
 * author meant as free text (e.g. "Requirements" or "Summary" can mean anything).
 */
export const SECTION_NAMES: Readonly<Record<SectionKey, readonly string[]>> = {
  description: ['description', 'overview'],
  entryRequirements: ['entry requirements', 'entry requirement', 'entry criteria'],
  tasks: ['tasks', 'task', 'task list'],
  exitCriteria: ['exit criteria', 'exit criterion', 'acceptance criteria', 'definition of done'],
  dependencies: ['dependencies', 'dependency', 'depends on'],
  estimatedTime: ['estimated time', 'estimate', 'time estimate', 'estimated duration', 'estimated effort'],
};

/** The canonical spelling, for messages. */
export const SECTION_TITLES: Readonly<Record<SectionKey, string>> = {
  description: 'Description',
  entryRequirements: 'Entry Requirements',
  tasks: 'Tasks',
  exitCriteria: 'Exit Criteria',
  dependencies: 'Dependencies',
  estimatedTime: 'Estimated Time',
};

const KEY_BY_NAME = new Map<string, SectionKey>(
  (Object.entries(SECTION_NAMES) as [SectionKey, readonly string[]][]).flatMap(([key, names]) =>
    names.map((name) => [name, key] as const),
  ),
);

export function normaliseHeading(text: string): string {
  return text
    .toLowerCase()
    .replace(/^\s*\d+(?:\.\d+)*[.)]?\s+/, '')
    // A trailing remark, "Dependencies (optional)" or "Estimated Time (rough):", does not change the section.
    .replace(/\s*\([^()]*\)[\s:]*$/, '')
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export function sectionKeyOf(headingText: string): SectionKey | undefined {
  return KEY_BY_NAME.get(normaliseHeading(headingText));
}

/** A heading that is probably a misspelling of the section `key` ("Exit Critera"), for hints. */
export function misspelledHeading<T extends { text: string }>(key: SectionKey, headings: readonly T[]): T | undefined {
  return headings.find((heading) => {
    const name = normaliseHeading(heading.text);
    if (KEY_BY_NAME.has(name)) return false;
    return SECTION_NAMES[key].some((wanted) => distance(name, wanted) <= Math.min(2, Math.floor(wanted.length / 4)));
  });
}
