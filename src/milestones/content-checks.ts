import { error, warning, type Diagnostic } from '../diagnostics.js';
import type { HeadingInfo, Outline } from './outline.js';
import { misspelledHeading, SECTION_TITLES } from './section-names.js';
import type { Position } from './source.js';
import type { Section, SectionKey } from './types.js';

export interface ContentContext {
  id: string;
  file: string;
  outline: Outline;
  sections: Partial<Record<SectionKey, Section>>;
  hasFrontMatter: boolean;
  /** Position in the file of an offset in the body. */
  at: (bodyOffset: number) => Position;
  bodyStartLine: number;
}

const SKELETON = 'a "# Title" line, then "## Description", "## Tasks" and "## Exit Criteria" sections';

/**
 * Problems that make the file useless as a milestone. When one is found the finer checks are skipped:
 * a file with no content would otherwise also get "no tasks", "no exit criteria", ... which is just noise.
 */
export function checkHasContent(context: ContentContext): Diagnostic | undefined {
  const { outline, file, bodyStartLine } = context;
  if (outline.content === 'none') {
    const message = context.hasFrontMatter ? 'the file has front matter but no milestone text' : 'the file is empty';
    return error('empty-milestone', message, { file, line: bodyStartLine, col: 1, hint: `describe the milestone in markdown: ${SKELETON}` });
  }
  if (outline.content === 'text') return undefined;
  const first = outline.headings[0];
  const where = first ? context.at(first.start) : { line: bodyStartLine, col: 1 };
  if (outline.headings.length === 1 && outline.title) {
    return error('title-only', `the milestone has a title ("${outline.title.text}") but nothing else`, {
      file,
      ...where,
      hint: 'add "## Description", "## Tasks" and "## Exit Criteria" sections under the title',
    });
  }
  return error('no-content', 'the milestone has headings but no text under any of them', {
    file,
    ...where,
    hint: 'fill in the sections: what to build under "## Tasks", how to tell it is done under "## Exit Criteria"',
  });
}

export interface TitleReading {
  title: string;
  titleLine: number;
  diagnostics: Diagnostic[];
}

export function readTitle(context: ContentContext): TitleReading {
  const { outline, id, file } = context;
  const title = outline.title;
  if (!title) {
    return {
      title: id,
      titleLine: context.bodyStartLine,
      diagnostics: [
        warning('no-title', `no "# Title" heading; the milestone will be called "${id}"`, {
          file,
          line: context.bodyStartLine,
          col: 1,
          hint: `start the file with a title such as "# Milestone ${id} - Initial Setup"`,
        }),
      ],
    };
  }
  const at = context.at(title.start);
  const diagnostics: Diagnostic[] = [];
  if (!outline.titleIsH1) {
    diagnostics.push(
      warning('no-title', `no "# Title" heading; using the level-${title.depth} heading "${title.text}" as the title`, {
        file,
        ...at,
        hint: `make it a level-1 heading: "# ${title.text}"`,
      }),
    );
  }
  const mismatch = titleIdMismatch(title, id);
  if (mismatch) {
    diagnostics.push(
      warning('title-id-mismatch', `the title names milestone ${mismatch} but this file is ${id}.md`, {
        file,
        ...at,
        hint: `fix the title, or rename the file to ${mismatch}.md if the title is right`,
      }),
    );
  }
  return { title: shortTitle(title.text, id), titleLine: at.line, diagnostics };
}

/**
 * `Milestone 1A - Initial Setup` (the seed format) is shown as `Initial Setup`: the id is printed beside every
 * title anyway. A title that is only the prefix keeps its full text.
 */
/**
 * One compiled pattern for every milestone (a unicode regex per title cost about 1 ms each): the id is captured
 * and compared, not built into the pattern.
 */
const TITLE_PREFIX = /^([^\p{L}\p{N}[]*?)\s*(?:milestone\s*)?\[?([1-9][a-z])\]?\s*[:\-–—.|]\s*/iu;

export function shortTitle(text: string, id: string): string {
  // Leading symbols (an emoji) are kept: "🚀 Milestone 1A - Setup" is shown as "🚀 Setup".
  const match = TITLE_PREFIX.exec(text);
  if (!match || match[2]?.toUpperCase() !== id.toUpperCase()) return text;
  const rest = text.slice(match[0].length).trim();
  if (rest.length === 0) return text;
  const lead = (match[1] ?? '').trim();
  return lead ? `${lead} ${rest}` : rest;
}

/**
 * `# Milestone 1B - Setup` or `# 1B: Setup` in 1A.md: a copy-paste slip worth pointing out. A bare leading
 * id must be followed by punctuation, so a title like "3D printing" is not taken for milestone 3D.
 */
function titleIdMismatch(title: HeadingInfo, id: string): string | undefined {
  const match = /\bmilestone\s*([1-9][a-z])\b/i.exec(title.text) ?? /^\s*\[?([1-9][A-Z])\]?\s*[:\-–—.|]/.exec(title.text);
  const named = match?.[1]?.toUpperCase();
  return named && named !== id ? named : undefined;
}

const ADD_TASKS = 'add a "## Tasks" section with a numbered list of what to do';
const ADD_EXIT_CRITERIA = 'add a "## Exit Criteria" section listing how to tell the milestone is done';

/**
 * Missing sections that weaken a milestone. Only having no work at all is an error: a description (a section
 * or free text under the title) is enough for an agent to go on, so a missing Tasks list is a warning then.
 */
export function checkSections(context: ContentContext): Diagnostic[] {
  const { sections, outline } = context;
  const diagnostics: Diagnostic[] = [];
  if (!sections.tasks) {
    const hasDescription = sections.description !== undefined || outline.preamble !== '';
    diagnostics.push(
      hasDescription
        ? missingSection(context, 'tasks', warning, 'no Tasks section; the agent will work from the description alone', ADD_TASKS)
        : missingSection(context, 'tasks', error, 'nothing tells the agent what to do: there is no Tasks or Description section', ADD_TASKS),
    );
  }
  if (!sections.exitCriteria) {
    const message = 'no Exit Criteria section; the review has no explicit criteria to check the work against';
    diagnostics.push(missingSection(context, 'exitCriteria', warning, message, ADD_EXIT_CRITERIA));
  }
  return diagnostics;
}

const MISSING_SECTION_CODES: Partial<Record<SectionKey, string>> = { tasks: 'no-tasks', exitCriteria: 'no-exit-criteria' };

/** Points at a heading that looks like a misspelling of the missing section, when there is one. */
function missingSection(context: ContentContext, key: SectionKey, make: typeof warning, message: string, hint: string): Diagnostic {
  const code = MISSING_SECTION_CODES[key] ?? `no-${key}`;
  const typo = misspelledHeading(key, context.outline.headings);
  if (!typo) return make(code, message, { file: context.file, hint });
  return make(code, message, {
    file: context.file,
    ...context.at(typo.start),
    hint: `the heading "${typo.text}" looks like a misspelling of "${SECTION_TITLES[key]}"; rename it`,
  });
}
