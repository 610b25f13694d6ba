import { execFileSync } from 'node:child_process';

export interface SpawnCost {
  ballastMb: number;
  rssMb: number;
  /** utime + stime of the parent per spawn of /bin/true, ms. */
  cpuMs: number;
  wallMs: number;
}

/**
 * Spawning a child costs the parent more the more memory it holds (fork copies its page tables): a fresh Node
 * process holding `ballastMb` of buffers spawns /bin/true 100 times and reports its own CPU per spawn.
 */
export function spawnCost(ballastMb: number): SpawnCost {
  const code = `
    import { spawn } from 'node:child_process';
    const ballast = []; for (let i = 0; i < ${ballastMb}; i++) ballast.push(Buffer.alloc(1 << 20, 1));
    const run = () => new Promise((r) => spawn('/bin/true', [], { stdio: 'ignore' }).on('close', r));
    for (let i = 0; i < 10; i++) await run();
    const c0 = process.cpuUsage(); const t0 = performance.now();
    for (let i = 0; i < 100; i++) await run();
    const c = process.cpuUsage(c0);
    console.log(JSON.stringify({ rssMb: process.memoryUsage().rss / 2 ** 20, cpuMs: (c.user + c.system) / 1000 / 100, wallMs: (performance.now() - t0) / 100 }));
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  return { ballastMb, ...(JSON.parse(out) as Omit<SpawnCost, 'ballastMb'>) };
}
