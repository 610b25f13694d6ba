import { afterEach, describe, expect, it } from 'vitest';
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
});
