import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's own folder (for its pinned `claude` and its templates), from dist/cli or src/cli alike. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function packageVersion(): string {
  return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
}

/** What the CLI reads and writes; tests and the entry point provide it. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  cwd: string;
}
