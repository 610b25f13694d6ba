import { warning, type Diagnostic } from '../diagnostics.js';
import { parseDurationMinutes } from '../util/duration.js';
import { readDependencySection } from './dependencies.js';
import { stripComments, type Outline, type SectionSpan } from './outline.js';
import { SECTION_TITLES } from './section-names.js';
import type { Position } from './source.js';
import type { DependencyRef, Section, SectionKey } from './types.js';

export interface SectionContext {
  file: string;
  body: string;
  outline: Outline;
  /** Position in the file of an offset in the body. */
  at: (bodyOffset: number) => Position;
}

export interface SectionsReading {
  sections: Partial<Record<SectionKey, Section>>;
  diagnostics: Diagnostic[];
}

/** The first occurrence of each section wins; later duplicates and empty sections get a warning. */
export function collectSections({ file, body, outline, at }: SectionContext): SectionsReading {
  const sections: Partial<Record<SectionKey, Section>> = {};
  const diagnostics: Diagnostic[] = [];
  for (const span of outline.sections) {
    const section: Section = { heading: span.heading.text, text: sectionText(body, span), line: at(span.heading.start).line };
    const where = { file, ...at(span.heading.start) };
    const first = sections[span.key];
    if (first) {
      const usage = span.key === 'dependencies' ? 'dependencies are read from both' : 'only the first is used for checks and estimates';
      diagnostics.push(
        warning('duplicate-section', `second "${SECTION_TITLES[span.key]}" section (the first is on line ${first.line}); ${usage}`, {
          ...where,
          hint: 'merge the two sections into one',
        }),
      );
      continue;
    }
    sections[span.key] = section;
    if (stripComments(section.text).trim() === '') {
      diagnostics.push(
        warning('empty-section', `the "${span.heading.text}" section is empty`, {
          ...where,
          hint: `fill it in or remove the heading`,
        }),
      );
    }
  }
  return { sections, diagnostics };
}

function sectionText(body: string, span: SectionSpan): string {
  return body.slice(span.contentStart, span.contentEnd).trim();
}

export interface EstimateReading {
  minutes: number | null;
  diagnostics: Diagnostic[];
}

const ESTIMATE_EXAMPLES = '"2 hours", "90 min", "1h 30m" or "2-3 hours"';

/** Reads the whole section as a duration, or failing that its first line ("2 hours\n\nmostly tests"). */
export function readEstimate(section: Section | undefined, file: string): EstimateReading {
  if (!section) {
    return {
      minutes: null,
      diagnostics: [
        warning('no-estimate', 'no Estimated Time section; the default estimate will be used for scheduling', {
          file,
          hint: `add "## Estimated Time" with a duration such as ${ESTIMATE_EXAMPLES}`,
        }),
      ],
    };
  }
  const text = stripComments(section.text).trim();
  const firstLine = text.split('\n').find((line) => line.trim() !== '') ?? '';
  const minutes = parseDurationMinutes(text) ?? parseDurationMinutes(firstLine);
  if (minutes !== null) return { minutes, diagnostics: [] };
  const shown = firstLine.length > 40 ? `${firstLine.slice(0, 37)}...` : firstLine;
  return {
    minutes: null,
    diagnostics: [
      warning('unreadable-estimate', `cannot read a duration from the Estimated Time section ("${shown}"); the default estimate will be used`, {
        file,
        line: section.line,
        col: 1,
        hint: `write a duration such as ${ESTIMATE_EXAMPLES}`,
      }),
    ],
  };
}

export interface SectionDependencies {
  refs: DependencyRef[];
  diagnostics: Diagnostic[];
}

/** Ids from every Dependencies section (a duplicate section is still read: dropping a dependency is worse). */
export function readSectionDependencies({ file, body, outline, at }: SectionContext): SectionDependencies {
  const refs: DependencyRef[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const span of outline.sections.filter((candidate) => candidate.key === 'dependencies')) {
    const text = body.slice(span.contentStart, span.contentEnd);
    const reading = readDependencySection(text);
    for (const mention of reading.mentions) {
      refs.push({ id: mention.id, source: 'section', ...at(span.contentStart + mention.offset) });
    }
    for (const mention of reading.lowercaseMentions) {
      diagnostics.push(
        warning('lowercase-dependency-id', `"${text.slice(mention.offset, mention.offset + 2)}" is not read as a dependency: milestone ids use a capital letter`, {
          file,
          ...at(span.contentStart + mention.offset),
          hint: `write ${mention.id} if you mean milestone ${mention.id}`,
        }),
      );
    }
    const saysSomething = stripComments(text).trim() !== '';
    if (reading.mentions.length === 0 && reading.lowercaseMentions.length === 0 && !reading.saysNone && saysSomething) {
      diagnostics.push(
        warning('unreadable-dependencies', 'no milestone ids found in the Dependencies section, so nothing is treated as a dependency', {
          file,
          ...at(span.heading.start),
          hint: 'list the ids this milestone needs, like "- 1A" or "- Milestone 1B", or write "None"',
        }),
      );
    }
  }
  return { refs, diagnostics };
}
