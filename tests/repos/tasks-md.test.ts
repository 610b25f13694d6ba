import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';
import { BEGIN_MARKER, END_MARKER, spliceBlock } from '../../src/report/tasks-md.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

const workOn = (id: string) => `milestone ${id}:`;
const TASKS_MD = '# Tasks\n\n- [ ] parser\n\n## Notes\n\nnone yet\n';
const withoutBlock = (text: string) => spliceBlock(text, `${BEGIN_MARKER}\n${END_MARKER}`);

describe('a tracked TASKS.md that tasks edit', () => {
  it('two tasks of one stage edit it: the target still advances, both edits and the progress block are in the working tree', async () => {
    const repo = makeEngineRepo(
      { '1A': milestone('1A'), '1B': milestone('1B') },
      {
        rules: [
          { match: workOn('1A'), run: { steps: [{ bash: "sed -i 's/- \\[ \\] parser/- [x] parser/' TASKS.md" }] } },
          { match: workOn('1B'), run: { steps: [{ bash: "sed -i 's/none yet/printer notes/' TASKS.md" }] } },
        ],
      },
      { review: { enabled: false } },
    );
    cleanup = repo.cleanup;
    repo.write('TASKS.md', TASKS_MD);
    const base = repo.commit('tracked TASKS.md');
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    const state = readState(repo.root);
    expect(state.integrationBranch).toBeUndefined();
    expect(result.stdout + result.stderr).not.toMatch(/could not be fast-forwarded|merged result kept on/);
    // main moved to the merged result, in the user's own checkout.
    expect(repo.git('rev-parse', 'main')).not.toBe(base);
    expect(repo.git('merge-base', '--is-ancestor', 'milestone/1A', 'main')).toBe('');
    expect(repo.git('merge-base', '--is-ancestor', 'milestone/1B', 'main')).toBe('');
    const committed = repo.git('show', 'main:TASKS.md');
    expect(committed).toContain('- [x] parser');
    expect(committed).toContain('printer notes');
    const working = readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8');
    expect(working).toContain(`## Progress — run ${state.runId}`);
    expect(withoutBlock(working)).toBe(withoutBlock(`${committed}\n`));
    expect(repo.git('status', '--porcelain')).toBe('M TASKS.md');
  });

  it('held back by your own change in a file the task also changed: the printed command takes the result and keeps your change', async () => {
    const lines = (first: string, last: string) => `${first}\n2\n3\n4\n5\n6\n${last}\n`;
    const repo = makeEngineRepo(
      { '1A': milestone('1A') },
      {
        rules: [
          {
            match: workOn('1A'),
            run: { steps: [{ bash: "sed -i 's/- \\[ \\] parser/- [x] parser/' TASKS.md" }, { write: 'src.txt', content: lines('task line 1', '7') }] },
          },
        ],
      },
      { review: { enabled: false } },
    );
    cleanup = repo.cleanup;
    repo.write('TASKS.md', TASKS_MD);
    repo.write('src.txt', lines('1', '7'));
    const base = repo.commit('tracked TASKS.md and src.txt');
    repo.write('src.txt', lines('1', 'my line 7')); // yours, uncommitted
    const result = await runCli([], { cwd: repo.root, env: repo.env });
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(repo.git('rev-parse', 'main')).toBe(base);
    const output = result.stdout + result.stderr;
    expect(output).toContain('with your uncommitted changes (src.txt)');
    const command = /take it with: (.+)$/im.exec(result.stdout)?.[1];
    expect(command).toBeDefined();
    expect(command).not.toBe('git merge --ff-only milestone/integration'); // that one would fail here
    execFileSync('sh', ['-c', command!], { cwd: repo.root, stdio: 'pipe' });
    expect(repo.git('rev-parse', 'main')).toBe(repo.git('rev-parse', 'milestone/integration'));
    expect(readFileSync(path.join(repo.root, 'src.txt'), 'utf8')).toBe(lines('task line 1', 'my line 7'));
    expect(readFileSync(path.join(repo.root, 'TASKS.md'), 'utf8')).toContain('- [x] parser');
    // status, asked afterwards, agrees with the repository as it is now: nothing left in the way.
    const status = JSON.parse((await runCli(['status', '--json'], { cwd: repo.root })).stdout);
    expect(status.run.takeCommand).toBe('git merge --ff-only --no-overwrite-ignore milestone/integration');
  });
});
