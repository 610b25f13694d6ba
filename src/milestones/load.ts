import { error, sortDiagnostics, type Diagnostic } from '../diagnostics.js';
import { compareIds } from './ids.js';
import { scanOutline } from './outline-scan.js';
import { splitWithoutFrontMatter } from './front-matter-fence.js';
import { parseMilestone, type MilestoneReaders, type Outliner, type ParseResult } from './parse.js';
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
  // Light readers first; a file that needs gray-matter/YAML or the markdown parser loads them (once) and is read again.
  const readers: MilestoneReaders = { outline: scanOnly, frontMatter: withoutFrontMatter };
  for (const file of scan.files) {
    let parsed = parseSafely(file, readers);
    while (parsed instanceof NeedsReader) {
      if (parsed.what === 'outline') readers.outline = (await import('./markdown.js')).outlineMarkdown;
      else readers.frontMatter = await import('./front-matter.js');
      parsed = parseSafely(file, readers);
    }
    if (parsed.milestone) milestones.push(parsed.milestone);
    diagnostics.push(...parsed.diagnostics);
  }
  milestones.sort((a, b) => compareIds(a.id, b.id));
  diagnostics.push(...validateMilestones(milestones, { unloadableIds: scan.unloadableIds }));
  return { milestones, diagnostics: sortDiagnostics(diagnostics) };
}

/** Thrown by a light reader for a file it cannot read exactly: load the full one (`what`) and read the file again. */
class NeedsReader extends Error {
  constructor(readonly what: 'outline' | 'front matter') {
    super(`needs the ${what} reader`);
  }
}

const scanOnly: Outliner = (body) => {
  const outline = scanOutline(body);
  if (!outline) throw new NeedsReader('outline');
  return outline;
};

const withoutFrontMatter: MilestoneReaders['frontMatter'] = {
  splitFrontMatter: (text, file) => {
    const split = splitWithoutFrontMatter(text, file);
    if (!split) throw new NeedsReader('front matter');
    return split;
  },
  parseFrontMatter: () => {
    throw new NeedsReader('front matter');
  },
};

/** A crash on one file is a bug, but it should not hide what is wrong with all the other files. */
function parseSafely(file: ScannedFile, readers: MilestoneReaders): (Partial<ParseResult> & { diagnostics: Diagnostic[] }) | NeedsReader {
  try {
    return parseMilestone(file, readers);
  } catch (cause) {
    if (cause instanceof NeedsReader) return cause;
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
