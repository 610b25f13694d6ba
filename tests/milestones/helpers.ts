import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Diagnostic } from '../../src/diagnostics.js';
import * as frontMatter from '../../src/milestones/front-matter.js';
import { outlineMarkdown } from '../../src/milestones/markdown.js';
import { parseMilestone, type ParseResult } from '../../src/milestones/parse.js';

/** The example from the seed README's "Creating Milestones" section, verbatim. */
export const SEED_1A = `# Milestone 1A - Initial Setup

## Description
Create the foundational project structure and configuration.

## Entry Requirements
- Git repository initialized
- Node.js and Python installed

## Tasks
1. Create project directory structure
2. Initialize package.json
3. Setup configuration files
4. Create README.md

## Exit Criteria
- All files created and committed
- Tests pass
- Documentation updated

## Dependencies
- None (first milestone)

## Estimated Time
2 hours
`;

/** A valid milestone with the given id, dependencies section and extra front matter. */
export function milestoneText(id: string, options: { deps?: string; frontMatter?: string; title?: string } = {}): string {
  const front = options.frontMatter === undefined ? '' : `---\n${options.frontMatter}\n---\n`;
  return `${front}# ${options.title ?? `Milestone ${id} - Work`}

## Tasks
1. Do the work for ${id}

## Exit Criteria
- It works

## Dependencies
${options.deps ?? 'None'}

## Estimated Time
1 hour
`;
}

export function parse(text: string, id = '1A'): ParseResult {
  return parseMilestone({ id, file: `milestones/${id}.md`, absPath: `/repo/milestones/${id}.md`, text }, { outline: outlineMarkdown, frontMatter });
}

export function codes(diagnostics: readonly Diagnostic[]): string[] {
  return diagnostics.map((d) => d.code);
}

/** The single diagnostic with `code`; fails the test if there is not exactly one. */
export function only(diagnostics: readonly Diagnostic[], code: string): Diagnostic {
  const found = diagnostics.filter((d) => d.code === code);
  if (found.length !== 1) throw new Error(`expected one "${code}", got ${found.length}: ${JSON.stringify(diagnostics, null, 2)}`);
  return found[0] as Diagnostic;
}

export async function makeTempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'milestones-test-'));
}

/** Writes `files` (paths relative to `root`, parents created) and returns `root`. */
export async function writeFiles(root: string, files: Record<string, string | Uint8Array>): Promise<string> {
  for (const [relative, content] of Object.entries(files)) {
    const target = path.join(root, relative);
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.writeFile(target, content);
  }
  return root;
}
