import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { symlinkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CLI } from '../support/cli.js';

/** Runs the built entry with stdout's reading end already closed; resolves with its exit code and stderr. */
function runWithClosedStdout(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('the orchestrate entry point', () => {
  it('runs when started through a symlink, as npm links it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mo-entry-'));
    try {
      const link = path.join(dir, 'orchestrate');
      symlinkSync(CLI, link);
      const child = spawn(process.execPath, [link, '--bogus'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code).toBe(2);
      expect(stderr).toMatch(/unknown option '--bogus'/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ends quietly when its output is closed early (| head)', async () => {
    const result = await runWithClosedStdout(CLI, ['--help']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
