import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli.js';
import { makeEngineRepo, milestone, readState } from '../support/engine-fixture.js';
import { taskWorktree } from '../support/paths.js';
import { installHello, lockfile } from './fixture.js';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/**
 * A run whose task's agent appends to a file of an installed package (in place, as `echo >>`, patch-package or an
 * agent's edit would) in its worktree's provisioned node_modules. `npm ci` in the set-up is skipped once provisioned
 * (it would fail here: there is no registry), so the run also shows the worktree really got the dependencies.
 */
async function runWritingIntoNodeModules(provision?: string) {
  const script = {
    default: {
      steps: [
        { bash: "node -e \"require('hello')\" && echo '// edited by the agent' >> node_modules/hello/lib/index.js" },
        { write: '1A.txt', content: '1A\n' },
        { bash: 'git add -A && git commit -qm "1A: work"' },
      ],
    },
  };
  const repo = makeEngineRepo({ '1A': milestone('1A') }, script, { worktrees: { setup: ['npm ci'], ...(provision ? { provision } : {}) } });
  cleanup = repo.cleanup;
  repo.write('package.json', JSON.stringify({ name: 'app', dependencies: { hello: '1.0.0' } }));
  repo.write('package-lock.json', lockfile());
  repo.write('.gitignore', 'node_modules/\n');
  repo.commit('app');
  installHello(repo.root);
  const result = await runCli([], { cwd: repo.root, env: repo.env });
  const mainFile = readFileSync(path.join(repo.root, 'node_modules/hello/lib/index.js'), 'utf8');
  const worktreeFile = readFileSync(path.join(taskWorktree(repo.root, '1A'), 'node_modules/hello/lib/index.js'), 'utf8');
  return { repo, result, output: result.stdout + result.stderr, mainFile, worktreeFile };
}

describe('worktree dependencies in a run', () => {
  it('default (auto): the worktree gets its own copy; a write in place there leaves the main checkout alone', async () => {
    const { repo, result, output, mainFile, worktreeFile } = await runWritingIntoNodeModules();
    expect(result.exitCode, output).toBe(0);
    expect(readState(repo.root).tasks['1A'].status).toBe('done');
    expect(worktreeFile).toMatch(/edited by the agent/);
    expect(mainFile).not.toMatch(/edited by the agent/);
    expect(output).not.toMatch(/modified in place/);
  });

  it('"hardlink" (on request): the write reaches the main checkout, and the run warns naming the file and the fix', async () => {
    const { repo, result, output, mainFile } = await runWritingIntoNodeModules('hardlink');
    expect(result.exitCode, output).toBe(0);
    expect(readState(repo.root).tasks['1A'].status).toBe('done');
    expect(mainFile).toMatch(/edited by the agent/);
    expect(output).toMatch(/\[1A\] files in the worktree's hard-linked node_modules were modified in place, which also changed them in the main checkout: node_modules\/hello\/lib\/index\.js\. Run npm ci in the main checkout/);
  });
});
