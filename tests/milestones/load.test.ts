import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasErrors } from '../../src/diagnostics.js';
import { loadMilestones } from '../../src/milestones/load.js';
import { codes, makeTempDir, milestoneText, only, SEED_1A, writeFiles } from './helpers.js';

const FIXTURE_ROOT = fileURLToPath(new URL('./fixtures/seed-project', import.meta.url));

let root: string;
beforeEach(async () => {
  root = await makeTempDir();
});
afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function load(files: Record<string, string | Uint8Array>, milestonesDir = 'milestones') {
  await writeFiles(root, files);
  return loadMilestones({ repoRoot: root, milestonesDir });
}

describe('loadMilestones: the seed fixture project', () => {
  it('loads every milestone, sorted, with settings and dependencies from both places', async () => {
    const { milestones, diagnostics } = await loadMilestones({ repoRoot: FIXTURE_ROOT, milestonesDir: 'milestones' });
    expect(diagnostics).toEqual([]);
    expect(milestones.map((m) => [m.id, m.file, m.title, m.estimateMinutes])).toEqual([
      ['1A', 'milestones/1A.md', 'Initial Setup', 120],
      ['1B', 'milestones/1B.md', 'Continuous Integration', 45],
      ['2A', 'milestones/2A.md', 'Users API', 90],
    ]);
    expect(milestones[0]?.absPath).toBe(path.join(FIXTURE_ROOT, 'milestones', '1A.md'));
    expect(milestones[1]?.dependencies).toEqual([{ id: '1A', source: 'section', line: 14, col: 13 }]);
    expect(milestones[1]?.sections.exitCriteria?.text).toBe('- CI is green on main');
    const api = milestones[2];
    expect(api?.dependencies).toEqual([
      { id: '1B', source: 'front_matter', line: 2, col: 14 },
      { id: '1A', source: 'section', line: 27, col: 3 },
    ]);
    expect(api?.settings).toEqual({
      depends_on: ['1B'],
      timeout: 3600,
      model: 'sonnet',
      max_turns: 40,
      max_budget_usd: 3,
      allowed_tools: ['Read', 'Edit', 'Bash(npm test:*)'],
      setup: ['npm ci'],
      checks: ['npm test', 'npm run lint'],
      review: true,
    });
    expect(api?.titleLine).toBe(14);
    expect(api?.body.startsWith('# Milestone 2A')).toBe(true);
  });
});

describe('loadMilestones: the folder', () => {
  it('reports a missing folder with how to create it', async () => {
    const { milestones, diagnostics } = await load({}, 'plans/milestones');
    expect(milestones).toEqual([]);
    expect(codes(diagnostics)).toEqual(['missing-folder']);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', file: 'plans/milestones' });
    // Where it looked, absolute: someone running from a subdirectory reads "milestones" as "./milestones".
    expect(diagnostics[0]?.message).toBe(
      `the milestones folder "plans/milestones" does not exist (looked for ${path.join(root, 'plans', 'milestones')}; "milestones_dir" is relative to the repository root)`,
    );
    expect(diagnostics[0]?.hint).toContain('mkdir -p plans/milestones');
    expect(diagnostics[0]?.hint).toContain('plans/milestones/1A.md');
  });

  it('reports a file where the folder should be', async () => {
    const { diagnostics } = await load({ milestones: 'not a folder' });
    expect(codes(diagnostics)).toEqual(['not-a-folder']);
    expect(diagnostics[0]?.file).toBe('milestones');
  });

  it('reports a folder with no milestones', async () => {
    await fs.mkdir(path.join(root, 'milestones'));
    const { diagnostics } = await load({ 'milestones/README.md': '# About', 'milestones/notes.txt': 'x' });
    expect(codes(diagnostics)).toEqual(['no-milestones']);
    expect(diagnostics[0]).toMatchObject({ severity: 'error', file: 'milestones', message: 'no milestone files in "milestones"' });
    expect(diagnostics[0]?.hint).toContain('milestones/1A.md');
  });

  it('accepts an absolute milestones folder and shows paths relative to the repository', async () => {
    const { milestones, diagnostics } = await load({ 'docs/ms/1A.md': SEED_1A }, path.join(root, 'docs/ms'));
    expect(diagnostics).toEqual([]);
    expect(milestones[0]?.file).toBe('docs/ms/1A.md');
  });

  it('sorts by stage, then letter', async () => {
    const { milestones } = await load({
      'milestones/2A.md': milestoneText('2A'),
      'milestones/1C.md': milestoneText('1C'),
      'milestones/1A.md': milestoneText('1A'),
      'milestones/9Z.md': milestoneText('9Z'),
      'milestones/2B.md': milestoneText('2B'),
      'milestones/3A.md': milestoneText('3A'),
      'milestones/4A.md': milestoneText('4A'),
      'milestones/5A.md': milestoneText('5A'),
      'milestones/6A.md': milestoneText('6A'),
      'milestones/7A.md': milestoneText('7A'),
      'milestones/8A.md': milestoneText('8A'),
    });
    expect(milestones.map((m) => m.id)).toEqual(['1A', '1C', '2A', '2B', '3A', '4A', '5A', '6A', '7A', '8A', '9Z']);
  });

  it('ignores README in any case, other file types and subfolders', async () => {
    const { milestones, diagnostics } = await load({
      'milestones/1A.md': SEED_1A,
      'milestones/README.md': 'docs',
      'milestones/readme.MD': 'docs',
      'milestones/notes.txt': 'x',
      'milestones/diagram.png': new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0]),
      'milestones/old/1B.md': 'whatever',
      'milestones/old/junk.md': 'whatever',
    });
    expect(diagnostics).toEqual([]);
    expect(milestones.map((m) => m.id)).toEqual(['1A']);
  });

  it('warns about a non-markdown file named like a milestone', async () => {
    const { diagnostics } = await load({ 'milestones/1A.md': SEED_1A, 'milestones/1b.txt': 'x' });
    const d = only(diagnostics, 'ignored-file');
    expect(d).toMatchObject({ severity: 'warning', file: 'milestones/1b.txt', hint: 'if it is a milestone, rename it to 1B.md' });
  });
});

describe('loadMilestones: file names', () => {
  it.each([
    ['1a.md', 'rename it to 1A.md'],
    ['01A.md', 'rename it to 1A.md'],
    ['1A.MD', 'rename it to 1A.md'],
    ['milestone-1A.md', 'rename it to 1A.md'],
    ['Milestone_2c.md', 'rename it to 2C.md'],
    ['1A - setup.md', 'rename it to 1A.md'],
    ['A1.md', 'rename it to 1A.md'],
    ['notes.md', 'rename it to match the pattern (for example 1A.md), move it out of the milestones folder, or name documentation README.md'],
    ['10A.md', 'rename it to match the pattern'],
    ['0A.md', 'rename it to match the pattern'],
  ])('reports %j naming the expected pattern, hint %j', async (name, hint) => {
    const { diagnostics } = await load({ [`milestones/${name}`]: SEED_1A, 'milestones/2A.md': milestoneText('2A') });
    const d = only(diagnostics, 'invalid-file-name');
    expect(d).toMatchObject({ severity: 'error', file: `milestones/${name}` });
    expect(d.message).toBe(
      `"${name}" is not a valid milestone file name; expected {STAGE}{TASK}.md: a stage digit 1-9 and a capital task letter A-Z, like 1A.md`,
    );
    expect(d.hint).toContain(hint);
  });

  it('does not suggest a name that is already taken', async () => {
    const { diagnostics } = await load({ 'milestones/1A.md': SEED_1A, 'milestones/milestone-1A.md': SEED_1A, 'milestones/1B.md': SEED_1A });
    expect(only(diagnostics, 'invalid-file-name').hint).toBe(
      '1A.md already exists; rename it to a free id such as 1C.md, merge it into 1A.md, or move it out of the milestones folder',
    );
  });

  it('reports misnamed files together with "no milestones" when nothing else is there', async () => {
    const { diagnostics } = await load({ 'milestones/1a.md': SEED_1A, 'milestones/1b.md': SEED_1A });
    expect(codes(diagnostics).sort()).toEqual(['invalid-file-name', 'invalid-file-name', 'no-milestones']);
    // Printed sorted by file, "no milestones" (on the folder) comes BEFORE the files: the hint must not say "above".
    expect(only(diagnostics, 'no-milestones').hint).toBe('rename the 2 files in milestones/ reported here to the {STAGE}{TASK}.md pattern, e.g. 1A.md');
  });

  it('counts a lookalike (1A.markdown) as a near miss in the "no milestones" hint', async () => {
    const { diagnostics } = await load({ 'milestones/1A.markdown': SEED_1A });
    expect(codes(diagnostics).sort()).toEqual(['ignored-file', 'no-milestones']);
    expect(only(diagnostics, 'no-milestones').hint).toBe('rename the file in milestones/ reported here to the {STAGE}{TASK}.md pattern, e.g. 1A.md');
  });
});

describe('loadMilestones: file contents', () => {
  it('reads CRLF files with a BOM', async () => {
    const { milestones, diagnostics } = await load({ 'milestones/1A.md': `\uFEFF${SEED_1A.replace(/\n/g, '\r\n')}` });
    expect(diagnostics).toEqual([]);
    expect(milestones[0]?.sections.estimatedTime?.line).toBe(24);
  });

  it('rejects a file over 1 MiB', async () => {
    const big = `${SEED_1A}\n${'x'.repeat(1024 * 1024)}\n`;
    const { milestones, diagnostics } = await load({ 'milestones/1A.md': big, 'milestones/1B.md': milestoneText('1B') });
    const d = only(diagnostics, 'file-too-large');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md' });
    // Not "1.0 MiB; at most 1 MiB": just over the limit, only bytes show the difference.
    expect(d.message).toBe(`"milestones/1A.md" is ${Buffer.byteLength(big).toLocaleString('en-US')} bytes; a milestone file may be at most 1,048,576 bytes (1 MiB)`);
    expect(milestones.map((m) => m.id)).toEqual(['1B']);
  });

  it('accepts a file of exactly 1 MiB', async () => {
    const text = `${SEED_1A}\n<!--${'x'.repeat(1024 * 1024 - SEED_1A.length - 9)}-->\n`;
    expect(Buffer.byteLength(text)).toBe(1024 * 1024);
    const { diagnostics } = await load({ 'milestones/1A.md': text });
    expect(diagnostics).toEqual([]);
  });

  it('rejects a binary file, giving the line of the NUL byte', async () => {
    const bytes = Buffer.concat([Buffer.from('# T\r\n\r\nab'), Buffer.from([0]), Buffer.from('\n')]);
    const d = only((await load({ 'milestones/1A.md': bytes })).diagnostics, 'binary');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md', line: 3, col: 3 });
    expect(d.message).toContain('line 3');
  });

  it('rejects invalid UTF-8, giving the line and column of the first bad byte', async () => {
    const bytes = Buffer.concat([Buffer.from('\uFEFF# Tést\n\n## Tasks\n- café '), Buffer.from([0xe9]), Buffer.from(' au lait\n')]);
    const d = only((await load({ 'milestones/1A.md': bytes })).diagnostics, 'not-utf8');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md', line: 4, col: 8 });
    expect(d.message).toBe('the file is not valid UTF-8: byte 0xe9 on line 4 cannot be decoded');
    expect(d.hint).toContain('UTF-8');
  });

  it.each([
    ['a truncated sequence at the end', [0x61, 0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
    ['a code point above U+10FFFF', [0xf4, 0x90, 0x80, 0x80]],
    ['a stray continuation byte', [0x80]],
  ])('rejects %s', async (_name, tail) => {
    const { diagnostics } = await load({ 'milestones/1A.md': Buffer.concat([Buffer.from(SEED_1A), Buffer.from(tail)]) });
    expect(only(diagnostics, 'not-utf8').line).toBe(26);
  });

  it('explains a UTF-16 file', async () => {
    const bytes = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SEED_1A, 'utf16le')]);
    const d = only((await load({ 'milestones/1A.md': bytes })).diagnostics, 'not-utf8');
    expect(d.message).toBe('the file is UTF-16 encoded, not UTF-8');
  });

  it('explains a UTF-16 file without a byte-order mark (PowerShell > and Out-File) instead of calling it binary', async () => {
    for (const bytes of [Buffer.from(SEED_1A, 'utf16le'), Buffer.from(SEED_1A, 'utf16le').swap16()]) {
      const d = only((await load({ 'milestones/1A.md': bytes })).diagnostics, 'not-utf8');
      expect(d).toMatchObject({ line: 1, col: 1, message: 'the file looks UTF-16 encoded (without a byte-order mark), not UTF-8' });
    }
  });

  it('still calls a file with a few NUL bytes binary', async () => {
    const d = only((await load({ 'milestones/1A.md': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2, 0x41, 0x42]) })).diagnostics, 'binary');
    expect(d).toMatchObject({ line: 1, col: 5 });
  });

  it('does not report references to a milestone that exists but could not be read', async () => {
    const { diagnostics } = await load({
      'milestones/1A.md': Buffer.from([0x23, 0, 0x0a]),
      'milestones/1B.md': milestoneText('1B', { deps: '- 1A' }),
    });
    expect(codes(diagnostics)).toEqual(['binary']);
  });

  it.skipIf(process.getuid?.() === 0)('reports a file it has no permission to read', async () => {
    await writeFiles(root, { 'milestones/1A.md': SEED_1A });
    await fs.chmod(path.join(root, 'milestones/1A.md'), 0o000);
    const { diagnostics } = await loadMilestones({ repoRoot: root, milestonesDir: 'milestones' });
    expect(only(diagnostics, 'unreadable-file').message).toContain('permission denied');
  });
});

describe('loadMilestones: symbolic links', () => {
  it('follows a link to a file inside the milestones folder', async () => {
    await writeFiles(root, { 'milestones/shared/base.md': SEED_1A });
    await fs.symlink('shared/base.md', path.join(root, 'milestones/1A.md'));
    const { milestones, diagnostics } = await load({});
    expect(diagnostics).toEqual([]);
    expect(milestones[0]?.title).toBe('Initial Setup');
  });

  it('rejects a link to a file outside the milestones folder', async () => {
    await writeFiles(root, { 'elsewhere/1A.md': SEED_1A, 'milestones/1B.md': milestoneText('1B') });
    await fs.symlink('../elsewhere/1A.md', path.join(root, 'milestones/1A.md'));
    const d = only((await load({})).diagnostics, 'symlink-outside');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md' });
    expect(d.message).toBe('"milestones/1A.md" is a symbolic link to "../elsewhere/1A.md", outside the milestones folder');
    expect(d.hint).toContain('copy the file into the milestones folder');
  });

  it('rejects a broken link', async () => {
    await writeFiles(root, { 'milestones/1B.md': milestoneText('1B') });
    await fs.symlink('gone.md', path.join(root, 'milestones/1A.md'));
    const d = only((await load({})).diagnostics, 'broken-symlink');
    expect(d).toMatchObject({ severity: 'error', file: 'milestones/1A.md' });
    expect(d.message).toContain('"gone.md", which does not exist');
  });

  it('calls a link that leads back to itself a loop, not missing', async () => {
    await writeFiles(root, { 'milestones/1B.md': milestoneText('1B') });
    await fs.symlink('1A.md', path.join(root, 'milestones/1A.md'));
    const d = only((await load({})).diagnostics, 'broken-symlink');
    expect(d.message).toBe('"milestones/1A.md" is a symbolic link to "1A.md", which leads back to itself (a loop of links)');
  });

  it('ignores a link to a folder', async () => {
    await writeFiles(root, { 'milestones/1A.md': SEED_1A, 'other/x.md': 'x' });
    await fs.symlink('../other', path.join(root, 'milestones/2A.md'));
    const { diagnostics } = await load({});
    expect(diagnostics).toEqual([]);
  });
});

describe('loadMilestones: all diagnostics together', () => {
  it('returns per-file and cross-file problems from every file, sorted by file and line', async () => {
    const { milestones, diagnostics } = await load({
      'milestones/1A.md': milestoneText('1A', { deps: '- 2A' }),
      'milestones/2A.md': milestoneText('2A', { frontMatter: 'max_turns: four', deps: '- 1A\n- 2Z' }),
      'milestones/4A.md': milestoneText('4A'),
      'milestones/1x.md': SEED_1A,
    });
    expect(milestones.map((m) => m.id)).toEqual(['1A', '2A', '4A']);
    expect(hasErrors(diagnostics)).toBe(true);
    expect(diagnostics.map((d) => [d.code, d.file, d.line])).toEqual([
      ['dependency-on-later-stage', 'milestones/1A.md', 10],
      ['invalid-file-name', 'milestones/1x.md', undefined],
      ['invalid-front-matter-value', 'milestones/2A.md', 2],
      ['unknown-dependency', 'milestones/2A.md', 14],
      ['stage-gap', 'milestones/4A.md', undefined],
    ]);
  });
});
