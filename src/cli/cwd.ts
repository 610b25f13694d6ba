import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Io } from './package.js';
import { fail } from './print.js';

/**
 * The folder `--cwd` names, resolved against the process's working directory. Undefined (after printing why and
 * `hint` through the one printer) when it does not exist or is not a directory: the caller exits 2 (usage).
 */
export function cwdFolder(cwd: string, io: Io, hint: string): string | undefined {
  const dir = path.resolve(io.cwd, cwd);
  if (existsSync(dir) && statSync(dir).isDirectory()) return dir;
  io.stderr(fail(`--cwd ${cwd}: ${existsSync(dir) ? 'is not a directory' : 'no such directory'}`, hint));
  return undefined;
}
