import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { refNameProblem } from '../../src/util/ref-name.js';

const NAMES = [
  'milestone/1A', 'main', 'feature/x-y_z', 'a.b/c', 'ü/1A', 'x@y', 'dev/harden',
  '-x', '-x/1A', 'has space/1A', 'a..b/1A', 'a~1', 'a^b', 'a:b', 'a?b', 'a*b', 'a[b', 'a\\b', 'ends/', '/starts', 'a//b',
  'x.lock/1A', 'x/1A.lock', '.hidden/1A', 'x/.y', 'dot.', 'a@{1}', 'tab\there', 'del\x7f', 'HEAD', '',
];

describe('branch names are checked as git checks them, without spawning git', () => {
  it.each(NAMES)('%j agrees with git check-ref-format --branch', (name) => {
    const git = spawnSync('git', ['check-ref-format', '--branch', name], { encoding: 'utf8' });
    expect(refNameProblem(name) === undefined, `${JSON.stringify(name)}: ours says ${refNameProblem(name) ?? 'ok'}, git exit ${git.status}`).toBe(git.status === 0);
  });

  it('says why in words', () => {
    expect(refNameProblem('-x1A')).toMatch(/starts with "-"/);
    expect(refNameProblem('my prefix/1A')).toBe('contains a space');
    expect(refNameProblem('x.lock/1A')).toMatch(/\.lock/);
    // git check-ref-format --branch expands "@" to the current branch, so it is not asked: refs/heads/@ is invalid.
    expect(refNameProblem('@')).toBeDefined();
  });
});
