import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from './cli-run.js';

/** A `git` first on PATH that logs its arguments and runs the real one: counts the git processes a run starts. */
export function gitCounter(): { env: Record<string, string>; calls(): string[]; cleanup(): void } {
  const dir = tempDir('mo-bench-git-');
  const log = path.join(dir, 'calls.log');
  const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
  mkdirSync(path.join(dir, 'bin'));
  const wrapper = path.join(dir, 'bin', 'git');
  writeFileSync(wrapper, `#!/bin/sh\nprintf '@@ %s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
  chmodSync(wrapper, 0o755);
  writeFileSync(log, '');
  return {
    env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH ?? ''}` },
    // One line per call starts with @@; a multi-line commit message adds lines that do not.
    calls: () => readFileSync(log, 'utf8').split('\n').filter((l) => l.startsWith('@@ ')).map((l) => l.slice(3)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** `config user.name`, `rev-parse --verify`: the subcommand and its first plain argument or flag. */
export function gitCallKind(args: string): string {
  const words = args.split(' ').filter((w) => w !== '' && !w.includes('='));
  const out: string[] = [];
  for (let i = 0; i < words.length && out.length < 2; i++) {
    if (words[i] === '-c') {
      i++;
      continue;
    }
    out.push(words[i]!);
  }
  return out.join(' ');
}
