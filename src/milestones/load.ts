import { error, sortDiagnostics, type Diagnostic } from '../diagnostics.js';
import { compareIds } from './ids.js';
import { scanOutline } from './outline-scan.js';
import { parseMilestone, type Outliner, type ParseResult } from './parse.js';
import { scanMilestonesFolder, type ScannedFile } from './scan.js';
import type { Milestone } from './types.js';
import { validateMilestones } from './validate.js';

export interface LoadResult {
  /** Every milestone file that could be read, sorted by id (stage, then letter), even if it has errors. */
  milestones: Milestone[];
  /** Everything found, errors and warnings, sorted by file and line. */
  diagnostics: Diagnostic[];
}

/** Never throws for user-input problems; IO errors on unreadable files become diagnostics too. */
export async function loadMilestones(opts: { repoRoot: string; milestonesDir: string }): Promise<LoadResult> {
  const scan = await scanMilestonesFolder(opts.repoRoot, opts.milestonesDir);
  const diagnostics: Diagnostic[] = [...scan.diagnostics];
  const milestones: Milestone[] = [];
  let full: Outliner | undefined;
  for (const file of scan.files) {
    let parsed = parseSafely(file, scanOnly);
    if (parsed === NEEDS_PARSER) {
      // Loaded on first need: most milestone files are read exactly by the line scanner alone.
      full ??= (await import('./markdown.js')).outlineMarkdown;
      parsed = parseSafely(file, full);
    }
    if (parsed === NEEDS_PARSER) throw new Error('unreachable: the full outliner reads every body');
    if (parsed.milestone) milestones.push(parsed.milestone);
    diagnostics.push(...parsed.diagnostics);
  }
  milestones.sort((a, b) => compareIds(a.id, b.id));
  diagnostics.push(...validateMilestones(milestones, { unloadableIds: scan.unloadableIds }));
  return { milestones, diagnostics: sortDiagnostics(diagnostics) };
}

const NEEDS_PARSER = Symbol('needs the markdown parser');

class NeedsParser extends Error {}

/** The line scanner's outline, or a NeedsParser throw for a body it cannot read exactly. */
const scanOnly: Outliner = (body) => {
  const outline = scanOutline(body);
  if (!outline) throw new NeedsParser();
  return outline;
};

/** A crash on one file is a bug, but it should not hide what is wrong with all the other files. */
function parseSafely(file: ScannedFile, outliner: Outliner): (Partial<ParseResult> & { diagnostics: Diagnostic[] }) | typeof NEEDS_PARSER {
  try {
    return parseMilestone(file, outliner);
  } catch (cause) {
    if (cause instanceof NeedsParser) return NEEDS_PARSER;
    const reason = cause instanceof Error ? cause.message : String(cause);
    return {
      diagnostics: [
        error('parse-failed', `could not parse "${file.file}": ${reason}`, {
          file: file.file,
          hint: 'this is a bug in the orchestrator; please report it together with this file',
        }),
      ],
    };
  }
}
