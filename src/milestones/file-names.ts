import path from 'node:path';
import { error, warning, type Diagnostic } from '../diagnostics.js';
import { guessMilestoneId } from './ids.js';
import { MILESTONE_FILE_PATTERN } from './types.js';

export type FileNameKind =
  /** `1A.md`. */
  | 'milestone'
  /** `README.md` in any case: documentation for humans, skipped. */
  | 'readme'
  /** Some other `.md` file: almost always a misnamed milestone, so it is an error. */
  | 'misnamed'
  /** Not markdown but named like a milestone (`1A.txt`): skipped, with a warning in case it was meant to run. */
  | 'lookalike'
  | 'ignored';

const EXPECTED_PATTERN = '{STAGE}{TASK}.md: a stage digit 1-9 and a capital task letter A-Z, like 1A.md';
const LOOKALIKE_EXTENSIONS = new Set(['', '.txt', '.markdown', '.mdown', '.mkd', '.mdx']);

export function classifyFileName(name: string): FileNameKind {
  if (MILESTONE_FILE_PATTERN.test(name)) return 'milestone';
  const extension = path.extname(name);
  if (extension.toLowerCase() === '.md') return /^readme\.md$/i.test(name) ? 'readme' : 'misnamed';
  const stem = name.slice(0, name.length - extension.length);
  return LOOKALIKE_EXTENSIONS.has(extension.toLowerCase()) && /^[1-9][a-z]$/i.test(stem) ? 'lookalike' : 'ignored';
}

/**
 * @param folder the milestones folder as the user should see it.
 * @param existingNames every file name in the folder, to avoid suggesting a name that is taken.
 */
export function misnamedFileDiagnostic(name: string, folder: string, existingNames: ReadonlySet<string>): Diagnostic {
  const message = `"${name}" is not a valid milestone file name; expected ${EXPECTED_PATTERN}`;
  return error('invalid-file-name', message, {
    file: joinDisplay(folder, name),
    hint: renameHint(name, existingNames),
  });
}

export function lookalikeFileDiagnostic(name: string, folder: string): Diagnostic {
  const id = guessMilestoneId(path.parse(name).name) ?? '1A';
  return warning('ignored-file', `"${name}" is ignored: only .md files are milestones`, {
    file: joinDisplay(folder, name),
    hint: `if it is a milestone, rename it to ${id}.md`,
  });
}

function renameHint(name: string, existingNames: ReadonlySet<string>): string {
  const stem = name.replace(/\.md$/i, '');
  const id = guessMilestoneId(stem);
  if (!id) {
    return `rename it to match the pattern (for example 1A.md), move it out of the milestones folder, or name documentation README.md`;
  }
  const wanted = `${id}.md`;
  if (!existingNames.has(wanted)) return `rename it to ${wanted}`;
  const free = freeIdInStage(Number(id.charAt(0)), existingNames);
  const alternative = free ? `rename it to a free id such as ${free}.md, ` : '';
  return `${wanted} already exists; ${alternative}merge it into ${wanted}, or move it out of the milestones folder`;
}

function freeIdInStage(stage: number, existingNames: ReadonlySet<string>): string | undefined {
  for (let code = 65; code <= 90; code++) {
    const id = `${stage}${String.fromCharCode(code)}`;
    if (!existingNames.has(`${id}.md`)) return id;
  }
  return undefined;
}

export function joinDisplay(folder: string, name: string): string {
  return folder === '' || folder === '.' ? name : `${folder.replace(/\/+$/, '')}/${name}`;
}
