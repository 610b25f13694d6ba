import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { error, type Diagnostic } from '../diagnostics.js';
import { decodeMilestoneBytes } from './decode.js';
import { classifyFileName, joinDisplay, lookalikeFileDiagnostic, misnamedFileDiagnostic } from './file-names.js';
import { compareIds } from './ids.js';
import type { MilestoneId } from './types.js';

/** Milestone files are prompts, not data: anything bigger is almost certainly a mistake. */
export const MAX_MILESTONE_BYTES = 1024 * 1024;

export interface ScannedFile {
  id: MilestoneId;
  /** Relative to the repository root, forward slashes. */
  file: string;
  absPath: string;
  text: string;
}

export interface ScanResult {
  /** Readable milestone files, sorted by id. */
  files: ScannedFile[];
  /** Milestone files that exist but could not be read; each has an error in `diagnostics`. */
  unloadableIds: MilestoneId[];
  diagnostics: Diagnostic[];
}

/** Lists and reads `<repoRoot>/<milestonesDir>`. All IO of the milestones module lives here. */
export async function scanMilestonesFolder(repoRoot: string, milestonesDir: string): Promise<ScanResult> {
  const folder = path.resolve(repoRoot, milestonesDir);
  const shown = displayPath(repoRoot, folder);
  const result: ScanResult = { files: [], unloadableIds: [], diagnostics: [] };
  const entries = await listFolder(folder, shown, result.diagnostics);
  if (!entries) return result;
  const realFolder = await fs.realpath(folder);
  const names = new Set(entries.map((entry) => entry.name));
  let misnamed = 0;
  let lookalikes = 0;
  await Promise.all(
    entries.map(async (entry) => {
      const kind = classifyFileName(entry.name);
      if (kind === 'readme' || kind === 'ignored') return;
      const absPath = path.join(folder, entry.name);
      if (await isFolder(entry, absPath)) return;
      if (kind === 'misnamed') {
        misnamed++;
        result.diagnostics.push(misnamedFileDiagnostic(entry.name, shown, names));
      } else if (kind === 'lookalike') {
        lookalikes++;
        result.diagnostics.push(lookalikeFileDiagnostic(entry.name, shown));
      } else {
        const id = entry.name.slice(0, 2);
        const read = await readMilestoneFile(absPath, joinDisplay(shown, entry.name), realFolder);
        if ('text' in read) result.files.push({ id, file: joinDisplay(shown, entry.name), absPath, text: read.text });
        else {
          result.unloadableIds.push(id);
          result.diagnostics.push(read.diagnostic);
        }
      }
    }),
  );
  result.files.sort((a, b) => compareIds(a.id, b.id));
  result.unloadableIds.sort(compareIds);
  if (result.files.length === 0 && result.unloadableIds.length === 0) result.diagnostics.push(noMilestonesDiagnostic(shown, misnamed, lookalikes));
  return result;
}

/** As the user should see it: relative to the repository root with forward slashes ("." for the root itself). */
export function displayPath(repoRoot: string, absPath: string): string {
  const relative = path.relative(path.resolve(repoRoot), absPath);
  const shown = relative === '' ? '.' : path.isAbsolute(relative) ? absPath : relative;
  return shown.split(path.sep).join('/');
}

async function listFolder(folder: string, shown: string, diagnostics: Diagnostic[]): Promise<Dirent[] | undefined> {
  let stats: Stats;
  try {
    stats = await fs.stat(folder);
  } catch (cause) {
    diagnostics.push(folderProblem(cause, shown, folder));
    return undefined;
  }
  if (!stats.isDirectory()) {
    diagnostics.push(
      error('not-a-folder', `the milestones folder "${shown}" is not a folder`, {
        file: shown,
        hint: `set "milestones_dir" in orchestrator.config.json to a directory of milestone files, or replace "${shown}" with one`,
      }),
    );
    return undefined;
  }
  try {
    return await fs.readdir(folder, { withFileTypes: true });
  } catch (cause) {
    diagnostics.push(folderProblem(cause, shown, folder));
    return undefined;
  }
}

function folderProblem(cause: unknown, shown: string, absFolder: string): Diagnostic {
  const code = errorCode(cause);
  if (code === 'ENOENT') {
    // Run from a subdirectory, "milestones" is easily read as "./milestones": say where it was looked for.
    const where = shown === absFolder ? '' : ` (looked for ${absFolder}; "milestones_dir" is relative to the repository root)`;
    return error('missing-folder', `the milestones folder "${shown}" does not exist${where}`, {
      file: shown,
      hint: `create it (mkdir -p ${shown}) and add a milestone file such as ${joinDisplay(shown, '1A.md')}, or set "milestones_dir" in orchestrator.config.json to the folder that has them`,
    });
  }
  if (code === 'ENOTDIR') {
    return error('not-a-folder', `the milestones folder "${shown}" is not a folder (part of its path is a file)`, {
      file: shown,
      hint: 'set "milestones_dir" in orchestrator.config.json to a directory of milestone files',
    });
  }
  return error('unreadable-folder', `cannot read the milestones folder "${shown}": ${describeIoError(cause)}`, {
    file: shown,
    hint: 'check that the folder exists and that you have permission to read it',
  });
}

/**
 * The diagnostics are printed sorted by file, so this one (on the folder) comes before the files it refers to:
 * the hint must not say "above" or "below".
 */
function noMilestonesDiagnostic(shown: string, misnamed: number, lookalikes: number): Diagnostic {
  const nearMisses = misnamed + lookalikes;
  return error('no-milestones', `no milestone files in "${shown}"`, {
    file: shown,
    hint:
      nearMisses > 0
        ? `rename the ${nearMisses === 1 ? 'file' : `${nearMisses} files`} in ${shown}/ reported here to the {STAGE}{TASK}.md pattern, e.g. 1A.md`
        : `add a file named like ${joinDisplay(shown, '1A.md')} (stage 1, task A), with a "# Title" and "## Tasks"`,
  });
}

/** Subfolders (and links to folders) are not milestones and are skipped silently. */
async function isFolder(entry: Dirent, absPath: string): Promise<boolean> {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return (await fs.stat(absPath)).isDirectory();
  } catch {
    return false;
  }
}

type ReadResult = { text: string } | { diagnostic: Diagnostic };

async function readMilestoneFile(absPath: string, file: string, realFolder: string): Promise<ReadResult> {
  try {
    const linkProblem = await checkSymlink(absPath, file, realFolder);
    if (linkProblem) return { diagnostic: linkProblem };
    const stats = await fs.stat(absPath);
    if (!stats.isFile()) {
      return { diagnostic: error('not-a-file', `"${file}" is not a regular file`, { file, hint: 'replace it with a markdown text file' }) };
    }
    if (stats.size > MAX_MILESTONE_BYTES) return { diagnostic: tooLarge(file, stats.size) };
    const bytes = await fs.readFile(absPath);
    if (bytes.length > MAX_MILESTONE_BYTES) return { diagnostic: tooLarge(file, bytes.length) };
    const decoded = decodeMilestoneBytes(bytes, file);
    return decoded.diagnostic ? { diagnostic: decoded.diagnostic } : { text: decoded.text };
  } catch (cause) {
    return {
      diagnostic: error('unreadable-file', `cannot read "${file}": ${describeIoError(cause)}`, {
        file,
        hint: 'check that the file exists and that you have permission to read it',
      }),
    };
  }
}

function tooLarge(file: string, bytes: number): Diagnostic {
  // "1.0 MiB; at most 1 MiB" reads as a contradiction just over the limit, so give bytes there.
  const mib = bytes / (1024 * 1024);
  const size = mib < 10 ? `${bytes.toLocaleString('en-US')} bytes` : `${mib.toFixed(0)} MiB`;
  const limit = `${MAX_MILESTONE_BYTES.toLocaleString('en-US')} bytes (1 MiB)`;
  return error('file-too-large', `"${file}" is ${size}; a milestone file may be at most ${limit}`, {
    file,
    hint: 'split it into smaller milestones, or keep large reference material in the repository and point to it from the milestone',
  });
}

/**
 * A link to a file inside the milestones folder is fine (an alias). A link out of it is refused: the milestone
 * would not travel with the folder into git worktrees, and the folder should say everything that will run.
 */
async function checkSymlink(absPath: string, file: string, realFolder: string): Promise<Diagnostic | undefined> {
  if (!(await fs.lstat(absPath)).isSymbolicLink()) return undefined;
  const target = await fs.readlink(absPath);
  let realTarget: string;
  try {
    realTarget = await fs.realpath(absPath);
  } catch (cause) {
    if (errorCode(cause) === 'ELOOP') {
      return error('broken-symlink', `"${file}" is a symbolic link to "${target}", which leads back to itself (a loop of links)`, {
        file,
        hint: 'replace the link with the milestone file itself',
      });
    }
    return error('broken-symlink', `"${file}" is a symbolic link to "${target}", which does not exist`, {
      file,
      hint: 'fix the link, or replace it with the milestone file itself',
    });
  }
  const relative = path.relative(realFolder, realTarget);
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    return error('symlink-outside', `"${file}" is a symbolic link to "${target}", outside the milestones folder`, {
      file,
      hint: 'copy the file into the milestones folder instead of linking to it; links may only point to files inside the folder',
    });
  }
  return undefined;
}

function errorCode(cause: unknown): string | undefined {
  return typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
}

function describeIoError(cause: unknown): string {
  const code = errorCode(cause);
  const known: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOENT: 'it does not exist',
    EISDIR: 'it is a folder',
    ELOOP: 'too many levels of symbolic links',
  };
  return (code && known[code]) ?? (cause instanceof Error ? cause.message : String(cause));
}
