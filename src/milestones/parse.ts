import type { Diagnostic } from '../diagnostics.js';
import { checkHasContent, checkSections, readTitle, type ContentContext } from './content-checks.js';
import type { FrontMatterResult, parseFrontMatter, splitFrontMatter } from './front-matter.js';
import type { Outline } from './outline.js';
import { collectSections, readEstimate, readSectionDependencies } from './read-sections.js';
import { createLineIndex, normaliseSource } from './source.js';
import type { DependencyRef, Milestone, MilestoneId } from './types.js';

export interface MilestoneSource {
  id: MilestoneId;
  /** Relative to the repository root, forward slashes. */
  file: string;
  absPath: string;
  /** The decoded file content, as read (BOM and any line endings allowed). */
  text: string;
}

/**
 * Body (markdown after the front matter, `\n` line endings) -> its outline. markdown.ts's `outlineMarkdown` reads
 * every body; loadMilestones first tries the line scanner alone, so the markdown parser loads only when needed.
 */
export type Outliner = (body: string) => Outline;

/**
 * What parseMilestone reads a file with: front-matter.ts's functions (gray-matter and the YAML parser) and an
 * outliner. Passed in so that loadMilestones can start with the light readers (no front matter, the line
 * scanner) and load the heavy modules only for a file that needs them.
 */
export interface MilestoneReaders {
  outline: Outliner;
  frontMatter: { splitFrontMatter: typeof splitFrontMatter; parseFrontMatter: typeof parseFrontMatter };
}

export interface ParseResult {
  milestone: Milestone;
  diagnostics: Diagnostic[];
}

/**
 * One milestone file -> a Milestone and everything wrong with it. Pure and total: every problem becomes a
 * diagnostic and a Milestone is always returned (with what could be read), so cross-file checks can still run
 * and one bad file does not cause a cascade of "unknown dependency" errors elsewhere.
 */
export function parseMilestone(source: MilestoneSource, readers: MilestoneReaders): ParseResult {
  const { id, file } = source;
  const text = normaliseSource(source.text);
  const positionOf = createLineIndex(text);
  const split = readers.frontMatter.splitFrontMatter(text, file);
  const front: FrontMatterResult =
    split.yaml === null
      ? { settings: {}, dependencies: [], diagnostics: [] }
      : readers.frontMatter.parseFrontMatter(split.yaml, split.yamlStartLine, file, split.bodyStartLine - 1, split.parsed ?? undefined);
  const body = split.body;
  const outline = readers.outline(body);
  const at = (bodyOffset: number) => positionOf(split.bodyOffset + bodyOffset);
  const sectionContext = { file, body, outline, at };
  const { sections, diagnostics: sectionDiagnostics } = collectSections(sectionContext);
  const sectionDependencies = readSectionDependencies(sectionContext);
  const contentContext: ContentContext = { id, file, outline, sections, hasFrontMatter: split.yaml !== null, at, bodyStartLine: split.bodyStartLine };
  const title = readTitle(contentContext);
  const fatal = checkHasContent(contentContext);
  const estimate = readEstimate(sections.estimatedTime, file);

  const diagnostics = [...split.diagnostics, ...front.diagnostics];
  if (fatal) diagnostics.push(fatal);
  else {
    diagnostics.push(
      ...title.diagnostics,
      ...sectionDiagnostics,
      ...sectionDependencies.diagnostics,
      ...checkSections(contentContext),
      ...estimate.diagnostics,
    );
  }

  const milestone: Milestone = {
    id,
    stage: Number(id.charAt(0)),
    letter: id.charAt(1),
    file,
    absPath: source.absPath,
    title: title.title,
    titleLine: title.titleLine,
    sections,
    dependencies: mergeDependencies([...front.dependencies, ...sectionDependencies.refs]),
    estimateMinutes: estimate.minutes,
    settings: front.settings,
    body,
  };
  return { milestone, diagnostics };
}

/** In file order (front matter comes first), the first mention of each id wins. */
function mergeDependencies(refs: DependencyRef[]): DependencyRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => {
    if (seen.has(ref.id)) return false;
    seen.add(ref.id);
    return true;
  });
}
