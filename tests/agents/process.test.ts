import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { isPidAlive, listDescendants, runProcessGroup, signalAllProcessGroups, signalGroup } from '../../src/util/process.js';
import { expectGone } from './process-helpers.js';

/** node -e script that starts `count` children (in its group, or each in its own) and prints their pids. */
function parentWithChildren(ownGroup: boolean): string {
  return `
    const { spawn } = require('node:child_process');
    const kid = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore', detached: ${ownGroup} });
    console.log(kid.pid);
    setInterval(() => {}, 1 << 30);
  `;
}

const started: number[] = [];
afterEach(() => {
  for (const pid of started.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
});

async function startLeader(ownGroupChild: boolean): Promise<{ leader: number; child: number }> {
  const proc = spawn(process.execPath, ['-e', parentWithChildren(ownGroupChild)], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  proc.unref();
  const [data] = (await once(proc.stdout!, 'data')) as [Buffer];
  const child = Number(data.toString().trim());
  started.push(proc.pid!, child);
  return { leader: proc.pid!, child };
}

describe('process-group primitives', () => {
  it('signalGroup reaches every member of the group, not just the leader', async () => {
    const { leader, child } = await startLeader(false);
    expect(isPidAlive(child)).toBe(true);
    signalGroup(leader, 'SIGTERM');
    await expectGone([leader, child]);
  });

  it('signalGroup does not reach a descendant that made its own group', async () => {
    const { leader, child } = await startLeader(true);
    signalGroup(leader, 'SIGKILL');
    await expectGone([leader]);
    expect(isPidAlive(child)).toBe(true);
  });

  it('listDescendants finds children in other process groups', async () => {
    const { leader, child } = await startLeader(true);
    const found = listDescendants(leader);
    expect(found.map((p) => p.pid)).toContain(child);
    expect(found.find((p) => p.pid === child)?.pgid).toBe(child);
  });

  it('signalGroup refuses group ids that would hit init or ourselves', () => {
    // Would be catastrophic if it went through; it must simply return.
    expect(() => signalGroup(0, 'SIGCONT')).not.toThrow();
    expect(() => signalGroup(1, 'SIGCONT')).not.toThrow();
    expect(() => signalGroup(process.pid, 'SIGCONT')).not.toThrow();
  });
});

describe('runProcessGroup', () => {
  const base = { cwd: tmpdir(), env: process.env, killGraceMs: 200 };

  it('delivers stdout lines as they arrive, including a last line without newline', async () => {
    const lines: string[] = [];
    const script = "process.stdout.write('a\\nb'); setTimeout(() => process.stdout.write('c\\r\\nd'), 50);";
    const r = await runProcessGroup({ ...base, file: process.execPath, args: ['-e', script], onStdoutLine: (l) => lines.push(l) });
    expect(lines).toEqual(['a', 'bc', 'd']);
    expect(r).toMatchObject({ started: true, exitCode: 0 });
  });

  it('keeps only the tail of a large stderr', async () => {
    const script = "process.stderr.write('x'.repeat(5000) + 'THE END')";
    const r = await runProcessGroup({ ...base, file: process.execPath, args: ['-e', script], maxStderrChars: 100, onStdoutLine: () => {} });
    expect(r.stderr).toHaveLength(100);
    expect(r.stderr.endsWith('THE END')).toBe(true);
    expect(r.stderrTruncated).toBe(true);
  });

  it('reports a spawn failure instead of throwing', async () => {
    const r = await runProcessGroup({ ...base, file: '/nonexistent/agent', args: [], onStdoutLine: () => {} });
    expect(r).toMatchObject({ started: false, exitCode: null, spawnError: { code: 'ENOENT' } });
  });

  it('survives a throwing line handler and reports it', async () => {
    const r = await runProcessGroup({
      ...base,
      file: process.execPath,
      args: ['-e', "console.log('one'); console.log('two')"],
      onStdoutLine: () => {
        throw new Error('handler bug');
      },
    });
    expect(r.exitCode).toBe(0);
    expect((r.listenerError as Error).message).toBe('handler bug');
  });

  it('does not hang when a leftover in another group holds stdout open after the leader exits', async () => {
    // The grandchild inherits our stdout pipe and sits in its own group, out of reach of the group kill.
    const script = `
      const { spawn } = require('node:child_process');
      const kid = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: ['ignore', 'inherit', 'ignore'], detached: true });
      console.log(kid.pid);
      kid.unref();
    `;
    const lines: string[] = [];
    const t0 = Date.now();
    const r = await runProcessGroup({ ...base, file: process.execPath, args: ['-e', script], onStdoutLine: (l) => lines.push(l) });
    started.push(Number(lines[0]));
    expect(r.exitCode).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('signalAllProcessGroups reaches runs in progress (the last resort for a CLI signal handler)', async () => {
    let seen!: () => void;
    const ready = new Promise<void>((r) => (seen = r));
    const pending = runProcessGroup({
      ...base,
      file: process.execPath,
      args: ['-e', "console.log('up'); setInterval(() => {}, 1 << 30)"],
      onStdoutLine: () => seen(),
    });
    await ready;
    signalAllProcessGroups('SIGTERM');
    const r = await pending;
    expect(r).toMatchObject({ exitCode: null, signal: 'SIGTERM' });
    expect(r.killReason).toBeUndefined();
  });
});
