import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findWritesThroughLinks, freeBytes, measureTree, provisionDependencies, type ProvisionMode } from '../../src/provision/index.js';
import { git, ROOT, tempDir } from '../lib/cli-run.js';
import { command, table, verdict, type Scenario } from '../lib/scenario.js';
import { fmt, median } from '../lib/stats.js';

const REPS = 3;

/** One way of provisioning, measured on `REPS` fresh worktrees. */
export interface ProvisionRun {
  mode: ProvisionMode;
  /** What `mode` came to on that filesystem (auto: `reflink` or `copy`). */
  method: string;
  files: number;
  symlinks: number;
  /** ms per provisioning (fresh worktree each). */
  ms: number[];
  /** KB the first worktree's node_modules adds to the disk (see `diskHow`). */
  diskKb: number;
  diskHow: 'du' | 'statfs';
  /** Filesystem type the worktrees were on (`df --output=fstype`). */
  fs: string;
}

export interface ProvisionBenchResult {
  auto: ProvisionRun;
  hardlink: ProvisionRun;
  /** Clones on a filesystem that can (this one, or BENCH_REFLINK_DIR); a reason when none was available. */
  reflink: ProvisionRun | { unavailable: string };
  /** A full copy with `cp -a` (which keeps hard links inside the tree), for reference: ms and KB added. */
  cpFullMs: number;
  cpFullKb?: number;
  /** npm ci in the main checkout (first) and in a worktree (second); undefined when npm failed. */
  npmCiMainMs?: number;
  npmCiWorktreeMs?: number;
  npmError?: string;
  /** KB by du: the main checkout's node_modules; an npm ci copy alone. */
  duMainKb: number;
  duNpmKb?: number;
  /** The free-disk check before a plain copy: bytes it measured and how long that took (ms). */
  treeBytes: number;
  treeBytesMs: number;
  checks: { tsc: string; requireOk: boolean; gitClean: boolean };
  /** findWritesThroughLinks over a hard-linked worktree (the check after each task in hardlink mode), ms. */
  scanMs: number;
}

function npmCi(cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - t0);
      else reject(new Error(`npm ci exited ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
    });
  });
}

/** `du -sk a b …`: hard links are counted once, for the first argument that reaches them. */
function du(...dirs: string[]): number[] {
  return execFileSync('du', ['-sk', ...dirs], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => Number(l.split(/\s+/)[0]));
}

function fsType(dir: string): string {
  return execFileSync('df', ['--output=fstype', dir], { encoding: 'utf8' }).trim().split('\n').pop() ?? '?';
}

function addWorktree(main: string, name: string): string {
  const dir = path.join(main, '.worktree', name);
  git(main, 'worktree', 'add', '-q', '-b', `bench/${name}`, dir);
  return dir;
}

/**
 * Provisions `REPS` fresh worktrees of `main` with `mode`. Disk: `du` with the main checkout first (blocks shared by
 * hard links counted once), except for clones, which `du` cannot tell from copies: there the free-space drop
 * (`statfs`) across the first provisioning, on a filesystem nothing else writes to (BENCH_REFLINK_DIR).
 */
async function measure(main: string, mode: ProvisionMode, diskHow: 'du' | 'statfs'): Promise<ProvisionRun & { first: string; since: number }> {
  const ms: number[] = [];
  let first: { wt: string; since: number; method: string; files: number; symlinks: number; diskKb: number } | undefined;
  for (let i = 1; i <= REPS; i++) {
    const wt = addWorktree(main, `${mode}-${i}`);
    const before = diskHow === 'statfs' ? await freeBytes(wt) : 0;
    const p = await provisionDependencies({ repoRoot: main, worktree: wt, mode });
    if (p.kind !== 'linked') throw new Error(`provisioning (${mode}) skipped: ${p.reason}`);
    const diskKb = diskHow === 'statfs' ? Math.max(0, (before - (await freeBytes(wt))) / 1024) : 0;
    ms.push(p.ms);
    first ??= { wt, since: p.since ?? 0, method: p.method ?? '?', files: p.files, symlinks: p.symlinks ?? 0, diskKb };
  }
  const diskKb = diskHow === 'du' ? du(path.join(main, 'node_modules'), path.join(first!.wt, 'node_modules'))[1]! : first!.diskKb;
  return { mode, method: first!.method, files: first!.files, symlinks: first!.symlinks, ms, diskKb, diskHow, fs: fsType(first!.wt), first: first!.wt, since: first!.since };
}

/** The same project, cloned onto a filesystem that can clone files, with the main checkout's node_modules copied. */
function projectOn(dir: string, main: string): string {
  const copy = path.join(dir, 'main');
  git(dir, 'clone', '-q', main, copy);
  execFileSync('cp', ['-a', path.join(main, 'node_modules'), path.join(copy, 'node_modules')]);
  return copy;
}

const strip = <T extends object>(run: T & { first: string; since: number }): T => {
  const { first: _f, since: _s, ...rest } = run;
  return rest as unknown as T;
};

export const provision: Scenario<ProvisionBenchResult> = {
  name: 'provision',
  title: 'Worktree dependency provisioning vs npm ci',
  expectedSeconds: 60,
  async run(log) {
    const base = tempDir('mo-bench-prov-');
    const reflinkBase = process.env.BENCH_REFLINK_DIR ? await mkdtemp(path.join(process.env.BENCH_REFLINK_DIR, 'mo-bench-prov-')) : undefined;
    const main = path.join(base, 'main');
    try {
      execFileSync('mkdir', ['-p', main]);
      git(main, 'init', '-q', '-b', 'main');
      git(main, 'config', 'user.name', 'Bench');
      git(main, 'config', 'user.email', 'bench@example.com');
      // This repository's own dependencies, taken from its lockfile's root entry so package.json and lockfile always
      // agree (no scripts: `prepare` would build a project that is not there; no bin: its files are not there).
      const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
      const { bin: _bin, ...pkg } = lock.packages['']!;
      writeFileSync(path.join(main, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
      copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(main, 'package-lock.json'));
      writeFileSync(path.join(main, '.gitignore'), 'node_modules/\n.worktree/\n');
      git(main, 'add', '-A');
      git(main, 'commit', '-q', '-m', 'project');

      const result: Partial<ProvisionBenchResult> = {};
      try {
        result.npmCiMainMs = await npmCi(main);
        log(`  npm ci in the main checkout: ${fmt.ms(result.npmCiMainMs)}`);
      } catch (err) {
        // Without npm the bench still measures provisioning, from this repository's own node_modules.
        result.npmError = (err as Error).message;
        log(`  npm ci failed (${result.npmError}); copying this repository's node_modules instead`);
        execFileSync('cp', ['-a', path.join(ROOT, 'node_modules'), path.join(main, 'node_modules')]);
      }

      const t0 = performance.now();
      result.treeBytes = (await measureTree(path.join(main, 'node_modules'))).bytes;
      result.treeBytesMs = performance.now() - t0;

      const auto = await measure(main, 'auto', 'du');
      log(`  auto (${auto.method}): ${auto.ms.map((m) => fmt.ms(m)).join(', ')}`);
      const hardlink = await measure(main, 'hardlink', 'du');
      log(`  hardlink: ${hardlink.ms.map((m) => fmt.ms(m)).join(', ')}`);
      let reflink: ProvisionRun | { unavailable: string };
      if (auto.method === 'reflink') reflink = strip(auto);
      else if (reflinkBase) {
        const there = projectOn(reflinkBase, main);
        try {
          reflink = strip(await measure(there, 'reflink', 'statfs'));
          log(`  reflink (${fsType(there)}): ${reflink.ms.map((m) => fmt.ms(m)).join(', ')}`);
        } catch (err) {
          reflink = { unavailable: `BENCH_REFLINK_DIR (${fsType(reflinkBase)}): ${(err as Error).message}` };
        }
      } else reflink = { unavailable: `${fsType(base)} cannot clone files; set BENCH_REFLINK_DIR to a folder on btrfs or XFS (reflink=1) to measure clones` };

      const fullWt = addWorktree(main, 'cp-full');
      const t1 = performance.now();
      execFileSync('cp', ['-a', path.join(main, 'node_modules'), path.join(fullWt, 'node_modules')]);
      const cpFullMs = performance.now() - t1;
      const cpFullKb = du(path.join(main, 'node_modules'), path.join(fullWt, 'node_modules'))[1]!;
      rmSync(path.join(fullWt, 'node_modules'), { recursive: true, force: true });

      let npmWt: string | undefined;
      if (!result.npmError) {
        npmWt = addWorktree(main, 'npm-ci');
        try {
          result.npmCiWorktreeMs = await npmCi(npmWt);
          log(`  npm ci in a worktree: ${fmt.ms(result.npmCiWorktreeMs)}`);
        } catch (err) {
          result.npmError = (err as Error).message;
          npmWt = undefined;
        }
      }
      const [duMainKb] = du(path.join(main, 'node_modules'));
      const duNpmKb = npmWt ? du(path.join(npmWt, 'node_modules'))[0] : undefined;

      // The default's result must work as an install's would.
      const tsc = execFileSync(path.join(auto.first, 'node_modules/.bin/tsc'), ['--version'], { cwd: auto.first, encoding: 'utf8' }).trim();
      let requireOk = true;
      try {
        execFileSync(process.execPath, ['-e', "require('zod'); require('yaml'); require('commander')"], { cwd: auto.first, stdio: 'ignore' });
      } catch {
        requireOk = false;
      }
      const gitClean = git(auto.first, 'status', '--porcelain') === '';
      const s0 = performance.now();
      await findWritesThroughLinks({ worktree: hardlink.first, since: hardlink.since });
      const scanMs = performance.now() - s0;

      return {
        ...(result as ProvisionBenchResult),
        auto: strip(auto),
        hardlink: strip(hardlink),
        reflink,
        cpFullMs,
        cpFullKb,
        duMainKb: duMainKb!,
        ...(duNpmKb !== undefined ? { duNpmKb } : {}),
        checks: { tsc, requireOk, gitClean },
        scanMs,
      };
    } finally {
      rmSync(base, { recursive: true, force: true });
      if (reflinkBase && existsSync(reflinkBase)) rmSync(reflinkBase, { recursive: true, force: true });
    }
  },
  render(r) {
    const mb = (kb: number | undefined) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`);
    const row = (label: string, run: ProvisionRun): string[] => [
      `${label}: ${run.method} on ${run.fs} (${run.files} files, ${run.symlinks} symlinks)`,
      fmt.ms(median(run.ms)),
      `${mb(run.diskKb)}${run.diskHow === 'statfs' ? ' (free-space drop)' : ''}`,
    ];
    const clone = 'unavailable' in r.reflink ? undefined : r.reflink;
    const speed = r.npmCiWorktreeMs !== undefined ? r.npmCiWorktreeMs / median(r.auto.ms) : Number.NaN;
    return [
      `Reproduce: \`${command('provision')}\` (clones too: \`BENCH_REFLINK_DIR=/mnt/xfs ${command('provision')}\`, a folder on btrfs or XFS)`,
      '',
      "A temporary git project with this repository's own package.json and package-lock.json (scripts removed), installed",
      'with `npm ci --prefer-offline` in its main checkout. New worktrees (same lockfile) then get their dependencies by',
      `\`provisionDependencies\` in each \`worktrees.provision\` mode (${REPS} fresh worktrees each, median), by \`npm ci --prefer-offline\``,
      '(npm cache warm from the first install, so no download is timed) and by `cp -a` for reference. Disk is what the',
      "worktree's node_modules adds: `du -sk` with the main checkout first (blocks shared through hard links counted once);",
      "for clones, which `du` counts in full, the drop in the filesystem's free space.",
      r.npmError ? `\nnpm ci could not run here (${r.npmError}); the npm comparison is missing.\n` : '',
      table(
        ['', 'time', 'disk added by the worktree'],
        [
          row('`auto` (the default)', r.auto),
          clone ? row('`reflink`', clone) : ['`reflink`', 'n/a', 'n/a'],
          row('`hardlink` (on request)', r.hardlink),
          ['cp -a, a full copy (reference)', fmt.ms(r.cpFullMs), mb(r.cpFullKb)],
          ['npm ci in the worktree', r.npmCiWorktreeMs !== undefined ? fmt.ms(r.npmCiWorktreeMs) : 'n/a', mb(r.duNpmKb)],
          ['(npm ci in the main checkout, first install)', r.npmCiMainMs !== undefined ? fmt.ms(r.npmCiMainMs) : 'n/a', mb(r.duMainKb)],
        ],
      ),
      '',
      clone ? '' : `Clones: not measured (${'unavailable' in r.reflink ? r.reflink.unavailable : ''}).\n`,
      `From the default's worktree, \`node_modules/.bin/tsc --version\` prints "${r.checks.tsc}", \`require('zod')\`, \`yaml\`, \`commander\` ${r.checks.requireOk ? 'load' : 'FAIL'},`,
      `and \`git status\` is ${r.checks.gitClean ? 'clean' : 'NOT clean'}. Before a plain copy the tree is measured for the free-disk check`,
      `(${(r.treeBytes / (1024 * 1024)).toFixed(1)} MB of file blocks, ${fmt.ms(r.treeBytesMs)}: included in the \`auto\` time above). Scanning a hard-linked`,
      `worktree for writes through the links after a task (\`findWritesThroughLinks\`, \`hardlink\` mode only) takes ${fmt.ms(r.scanMs)}.`,
      '',
      `- Speed: npm ci / \`auto\` = ${fmt.ratio(speed, 1)}: target >= 3x ("several times faster than an install", the decision's words) ${verdict(speed >= 3)}.`,
      '',
      '**Why `auto` copies instead of hard-linking** (decision of 2026-11-30). A hard-linked file is the same inode as',
      "the main checkout's: a tool that *writes into an existing file in place* (patch-package, an agent editing a file",
      "under node_modules, `echo >> file`) changes the main checkout's copy, and every other worktree's, and no sandbox",
      'that confines paths can stop it. A clone (btrfs, XFS, APFS, ZFS 2.2+) costs no data blocks and is independent; where',
      "the filesystem cannot clone, a plain copy is independent too and still several times faster than an install, at an",
      "install's disk cost. That cost is checked first: `auto` copies only when the copy leaves",
      '`resources.min_free_disk_mb` free on the worktrees\' filesystem, else it says so and the set-up commands install.',
      'Hard links remain for those who ask (`"hardlink"`): no disk, and a warning after each task that wrote through them.',
      '',
      '**When it applies.** `provisionDependencies({ repoRoot, worktree, mode })` provisions only when the result is',
      "exactly what an install would give: the worktree's lockfiles are byte-identical to the main checkout's; the main",
      "checkout's `node_modules` was installed from that lockfile (npm: its hidden lockfile `node_modules/.package-lock.json`",
      'agrees entry by entry, optional platform packages aside; yarn/pnpm/bun: the install marker is newer than the',
      'lockfile); git ignores `node_modules/` in the worktree (else the task would commit it); the worktree has no',
      '`node_modules` yet. Otherwise it answers `skipped` with the reason and the configured set-up command (`npm ci`)',
      'runs as before. The tree is built beside the worktree and renamed into place, so an interrupted provisioning never',
      'leaves a half-filled `node_modules`. Symlinks stay symlinks (relative ones such as `.bin/tsc -> ../typescript/bin/tsc`',
      'resolve inside the copy; absolute ones into the source tree are re-pointed). Only the root `node_modules` is',
      'provisioned: a workspace whose packages have their own nested `node_modules` is skipped and installs as usual.',
    ]
      .filter((line, i, all) => !(line === '' && all[i - 1] === ''))
      .join('\n');
  },
  summary(r) {
    const auto = median(r.auto.ms);
    const speed = r.npmCiWorktreeMs !== undefined ? r.npmCiWorktreeMs / auto : Number.NaN;
    const disk = r.duNpmKb !== undefined ? r.auto.diskKb / r.duNpmKb : Number.NaN;
    return [
      { what: `worktree dependencies: npm ci time / provisioning time (default \`auto\`: ${r.auto.method} on ${r.auto.fs})`, measured: fmt.ratio(speed, 1), target: '>= 3x', met: Number.isFinite(speed) ? speed >= 3 : undefined },
      { what: `worktree dependencies: disk added / npm ci disk (default \`auto\`: ${r.auto.method} on ${r.auto.fs})`, measured: fmt.pct(disk), target: 'reported (a copy costs an install\'s disk)', met: undefined },
    ];
  },
};
