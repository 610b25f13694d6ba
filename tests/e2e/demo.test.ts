import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tasksMdRow } from './harness.js';

/** `npm run demo` as a user runs it (minus the build): the built entry, into a temporary folder. 3 agent processes. */

const DEMO = fileURLToPath(new URL('../../dist/demo/demo.js', import.meta.url));

describe('e2e: npm run demo', () => {
  const root = mkdtempSync(path.join(tmpdir(), 'mo-demo-'));
  const out = path.join(root, 'demo');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs the example plan with real agents to the end and says where to look', async () => {
    const result = await execa(process.execPath, [DEMO, '--out', out], { reject: false, stdin: 'ignore', timeout: 90_000, env: { CI: 'true' } });
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(result.exitCode, output).toBe(0);
    expect(output).not.toMatch(/has no answer|no rule for|internal error/);

    const repo = path.join(out, 'repo');
    const tasksMd = readFileSync(path.join(repo, 'TASKS.md'), 'utf8');
    expect(tasksMd).toContain('**completed**');
    expect(tasksMd).toContain('3/3 tasks done');
    for (const id of ['1A', '1B', '2A']) expect(tasksMdRow(tasksMd, id)).toContain('✅ done');

    // What the agents built works, on main.
    const slug = execFileSync(process.execPath, ['bin/slugger.js', '-s', '_', 'Crème', 'brûlée'], { cwd: repo, encoding: 'utf8' });
    expect(slug.trim()).toBe('creme_brulee');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, encoding: 'utf8' }).trim();
    expect(git('log', '--format=%s', 'main').split('\n')).toEqual(
      expect.arrayContaining(['1A: slugify() with tests', '1B: parseOptions() with tests', '2A: slugger command', 'Merge milestone 2A: CLI entry point']),
    );

    // Every request was one the scenario planned.
    const requests = readFileSync(path.join(out, 'api-requests.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { outcome: string });
    expect(requests.filter((r) => r.outcome !== 'rule')).toEqual([]);
    expect(requests).toHaveLength(13);

    expect(result.stdout).toContain('Demo finished: 3/3 milestones done and merged into main.');
    expect(result.stdout).toContain(`git -C ${repo} log --graph --oneline --all`);
    expect(result.stdout).toContain(path.join(repo, 'TASKS.md'));
  }, 90_000);

  it('refuses a folder that is not empty', async () => {
    const used = path.join(root, 'used');
    mkdirSync(used);
    writeFileSync(path.join(used, 'keep.txt'), 'mine\n');
    const result = await execa(process.execPath, [DEMO, '--out', used], { reject: false, stdin: 'ignore', timeout: 30_000 });
    expect(result.exitCode).toBe(1);
    expect(String(result.stderr)).toContain('is not empty');
    expect(readFileSync(path.join(used, 'keep.txt'), 'utf8')).toBe('mine\n');
  });
});
