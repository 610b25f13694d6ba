import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { loadConfig, type ConfigLoadResult } from '../../src/config/load.js';

const made: string[] = [];

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A throwaway directory holding `files` (path -> content); removed after the test. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'orch-config-'));
  made.push(dir);
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return dir;
}

/** Loads from a fresh repo containing `files`, with no environment overrides unless given. */
export async function loadFrom(
  files: Record<string, string>,
  opts: { env?: NodeJS.ProcessEnv; explicitPath?: string } = {},
): Promise<ConfigLoadResult & { root: string }> {
  const root = tempDir(files);
  const result = await loadConfig({ repoRoot: root, env: opts.env ?? {}, cwd: root, ...(opts.explicitPath ? { explicitPath: opts.explicitPath } : {}) });
  return { ...result, root };
}

/** The interesting parts of each diagnostic, for compact assertions. */
export function brief(result: Pick<ConfigLoadResult, 'diagnostics'>): string[] {
  return result.diagnostics.map((d) => {
    const at = d.file ? `${d.file}${d.line !== undefined ? `:${d.line}:${d.col ?? 1}` : ''} ` : '';
    return `${at}${d.severity} ${d.code}: ${d.message}`;
  });
}
