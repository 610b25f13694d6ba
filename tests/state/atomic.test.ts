import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AtomicWriter, writeFileAtomic } from '../../src/state/atomic.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('atomic writes', () => {
  it('replaces the file and leaves no temporary files behind', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-atomic-'));
    const file = path.join(dir, 'sub', 'state.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(path.dirname(file))).toEqual(['state.json']);
  });

  it('lands writes in call order even when callers do not wait', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mo-atomic-'));
    const file = path.join(dir, 'state.json');
    const writer = new AtomicWriter(file);
    for (let i = 0; i < 50; i++) void writer.write(String(i));
    await writer.flush();
    expect(readFileSync(file, 'utf8')).toBe('49');
  });
});
