import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Tests that spawn the CLI run the built artefact, so build it once per test run.
 * SKIP_BUILD=1 skips it for quick runs of pure-module tests.
 */
export default function setup(): () => void {
  const teardown = () => {
    // The tests' own cache folder (vitest.config.ts), with every worktree and log the runs left there.
    const cache = process.env.XDG_CACHE_HOME;
    if (cache && path.basename(cache).startsWith('mo-test-cache-')) rmSync(cache, { recursive: true, force: true });
  };
  if (process.env.SKIP_BUILD === '1') return teardown;
  const root = fileURLToPath(new URL('../..', import.meta.url));
  try {
    execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  } catch (err) {
    // No teardown runs when the setup throws: remove the cache folder now.
    teardown();
    throw err;
  }
  return teardown;
}
