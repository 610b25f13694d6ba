import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { findWritesThroughLinks, provisionDependencies } from '../../src/provision/index.js';
import { git, ROOT, tempDir } from '../lib/cli-run.js';
import { command, table, verdict, type Scenario } from '../lib/scenario.js';
import { fmt, median } from '../lib/stats.js';

const LINK_REPS = 3;

export interface ProvisionBenchResult {
  files: number;
  symlinks: number;
  method: string;
  /** ms per provisioning (fresh worktree each). */
  linkMs: number[];
  cpAlMs: number;
  /** KB the cp -al copy adds (du, main checkout counted first). */
  duCpAlExtraKb: number;
  /** A full copy (`cp -a`), what `cp --reflink=auto` amounts to without clone support. */
  cpFullMs: number;
  /** npm ci in the main checkout (first) and in a worktree (second); undefined when npm failed. */
  npmCiMainMs?: number;
  npmCiWorktreeMs?: number;
  npmError?: string;
  /** KB by du: the main checkout's node_modules; what the linked copy adds; an npm ci copy alone. */
  duMainKb: number;
  duLinkedExtraKb: number;
  duLinkedAloneKb: number;
  duNpmKb?: number;
  checks: { tsc: string; requireOk: boolean; gitClean: boolean };
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

function addWorktree(main: string, name: string): string {
  const dir = path.join(main, '.worktree', name);
  git(main, 'worktree', 'add', '-q', '-b', `bench/${name}`, dir);
  return dir;
}

export const provision: Scenario<ProvisionBenchResult> = {
  name: 'provision',
  title: 'Worktree dependency provisioning vs npm ci',
  expectedSeconds: 60,
  async run(log) {
    const base = tempDir('mo-bench-prov-');
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
        // Without npm the bench still measures linking, from this repository's own node_modules.
        result.npmError = (err as Error).message;
        log(`  npm ci failed (${result.npmError}); linking this repository's node_modules instead`);
        execFileSync('cp', ['-al', path.join(ROOT, 'node_modules'), path.join(main, 'node_modules')]);
      }

      const linkMs: number[] = [];
      let first: string | undefined;
      let firstSince = 0;
      for (let i = 1; i <= LINK_REPS; i++) {
        const wt = addWorktree(main, `linked-${i}`);
        const p = await provisionDependencies({ repoRoot: main, worktree: wt, mode: 'auto' });
        if (p.kind !== 'linked') throw new Error(`provisioning skipped: ${p.reason}`);
        linkMs.push(p.ms);
        Object.assign(result, { files: p.files, symlinks: p.symlinks ?? 0, method: p.method ?? '?' });
        if (!first) {
          first = wt;
          firstSince = p.since ?? 0;
        }
      }
      log(`  provisioned ${result.files} files by ${result.method}: ${linkMs.map((m) => fmt.ms(m)).join(', ')}`);

      const cpWt = addWorktree(main, 'cp-al');
      const t0 = performance.now();
      execFileSync('cp', ['-al', path.join(main, 'node_modules'), path.join(cpWt, 'node_modules')]);
      const cpAlMs = performance.now() - t0;
      const fullWt = addWorktree(main, 'cp-full');
      const t1 = performance.now();
      execFileSync('cp', ['-a', path.join(main, 'node_modules'), path.join(fullWt, 'node_modules')]);
      const cpFullMs = performance.now() - t1;
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

      const [duMainKb, duLinkedExtraKb] = du(path.join(main, 'node_modules'), path.join(first!, 'node_modules'));
      const [duLinkedAloneKb] = du(path.join(first!, 'node_modules'));
      const duCpAlExtraKb = du(path.join(main, 'node_modules'), path.join(cpWt, 'node_modules'))[1]!;
      const duNpmKb = npmWt ? du(path.join(npmWt, 'node_modules'))[0] : undefined;

      const tsc = execFileSync(path.join(first!, 'node_modules/.bin/tsc'), ['--version'], { cwd: first!, encoding: 'utf8' }).trim();
      let requireOk = true;
      try {
        execFileSync(process.execPath, ['-e', "require('zod'); require('yaml'); require('commander')"], { cwd: first!, stdio: 'ignore' });
      } catch {
        requireOk = false;
      }
      const gitClean = git(first!, 'status', '--porcelain') === '';
      const s0 = performance.now();
      await findWritesThroughLinks({ worktree: first!, since: firstSince });
      const scanMs = performance.now() - s0;

      return {
        ...(result as ProvisionBenchResult),
        linkMs,
        cpAlMs,
        cpFullMs,
        duCpAlExtraKb,
        duMainKb: duMainKb!,
        duLinkedExtraKb: duLinkedExtraKb!,
        duLinkedAloneKb: duLinkedAloneKb!,
        ...(duNpmKb !== undefined ? { duNpmKb } : {}),
        checks: { tsc, requireOk, gitClean },
        scanMs,
      };
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  },
  render(r) {
    const link = median(r.linkMs);
    const speed = r.npmCiWorktreeMs !== undefined ? r.npmCiWorktreeMs / link : Number.NaN;
    const disk = r.duNpmKb !== undefined ? r.duLinkedExtraKb / r.duNpmKb : Number.NaN;
    const mb = (kb: number | undefined) => (kb === undefined ? 'n/a' : `${(kb / 1024).toFixed(1)} MB`);
    return [
      `Reproduce: \`${command('provision')}\``,
      '',
      "A temporary git project with this repository's own package.json and package-lock.json (scripts removed), installed",
      'with `npm ci --prefer-offline` in its main checkout. New worktrees (same lockfile) then get their dependencies',
      `three ways: \`provisionDependencies\` (mode \`auto\`: on this ext4 disk that means hard links; ${LINK_REPS} fresh worktrees, median),`,
      '`npm ci --prefer-offline` (npm cache warm from the first install, so no download is timed), and `cp -al` for',
      'reference. Disk is `du -sk` with the main checkout first, so blocks shared through hard links are counted once.',
      r.npmError ? `\nnpm ci could not run here (${r.npmError}); the npm comparison is missing.\n` : '',
      table(
        ['', 'time', 'disk added by the worktree'],
        [
          [`provisionDependencies (${r.method}, ${r.files} files, ${r.symlinks} symlinks)`, fmt.ms(link), mb(r.duLinkedExtraKb)],
          ['cp -al (reference)', fmt.ms(r.cpAlMs), mb(r.duCpAlExtraKb)],
          ['cp -a, a full copy (what cp --reflink=auto does on ext4)', fmt.ms(r.cpFullMs), mb(r.duLinkedAloneKb)],
          ['npm ci in the worktree', r.npmCiWorktreeMs !== undefined ? fmt.ms(r.npmCiWorktreeMs) : 'n/a', mb(r.duNpmKb)],
          ['(npm ci in the main checkout, first install)', r.npmCiMainMs !== undefined ? fmt.ms(r.npmCiMainMs) : 'n/a', mb(r.duMainKb)],
        ],
      ),
      '',
      `The linked tree alone measures ${mb(r.duLinkedAloneKb)} with \`du\` (its files are real files); only the directories are new blocks.`,
      `From the linked worktree, \`node_modules/.bin/tsc --version\` prints "${r.checks.tsc}", \`require('zod')\`, \`yaml\`, \`commander\` ${r.checks.requireOk ? 'load' : 'FAIL'},`,
      `and \`git status\` is ${r.checks.gitClean ? 'clean' : 'NOT clean'}. Scanning it for writes through the links (\`findWritesThroughLinks\`) takes ${fmt.ms(r.scanMs)}.`,
      '',
      `- Speed: npm ci / provisioning = ${fmt.ratio(speed, 0)}: target >= 10x ${verdict(speed >= 10)}.`,
      `- Disk: provisioned / npm ci = ${fmt.pct(disk)}: target <= 10 % ${verdict(disk <= 0.1)}.`,
      '',
      '**When it applies.** `provisionDependencies({ repoRoot, worktree, mode })` links only when the result is exactly',
      'what an install would give: the worktree\'s lockfiles are byte-identical to the main checkout\'s; the main',
      "checkout's `node_modules` was installed from that lockfile (npm: its hidden lockfile `node_modules/.package-lock.json`",
      'agrees entry by entry, optional platform packages aside; yarn/pnpm/bun: the install marker is newer than the',
      'lockfile); git ignores `node_modules/` in the worktree (else the task would commit it); the worktree has no',
      '`node_modules` yet; both are on one filesystem. Otherwise it answers `skipped` with the reason and the configured',
      'set-up command (`npm ci`) runs as before. The tree is built beside the worktree and renamed into place, so an',
      'interrupted provisioning never leaves a half-filled `node_modules`. Symlinks stay symlinks (relative ones such as',
      '`.bin/tsc -> ../typescript/bin/tsc` resolve inside the copy; absolute ones into the source tree are re-pointed).',
      'Only the root `node_modules` is linked: a workspace whose packages have their own nested `node_modules` is',
      'skipped and installs as usual.',
      '',
      '**The trade-off: hard links share content.** A hard-linked file is the same inode as the main checkout\'s. Every',
      'tool that *replaces* files (npm/yarn/pnpm installs, git, editors that save atomically, `sed -i`) leaves the main',
      'checkout untouched; a tool that *writes into an existing file in place* (patch-package, an agent editing a file',
      'under node_modules, `echo >> file`) changes the main checkout\'s copy, and every other worktree\'s. Options weighed:',
      '',
      '- copy-on-write clones (`reflink`: btrfs, XFS, APFS, ZFS 2.2+) cost no data blocks and have no such risk. `auto`',
      '  probes for them with one real clone and uses them whenever the filesystem can; `reflink` accepts only them.',
      '  ext4 (this box) cannot clone (`cp --reflink=always` fails), so `cp --reflink=auto` would be a full copy: full',
      `  disk, and ${r.npmCiWorktreeMs !== undefined ? fmt.ratio(r.npmCiWorktreeMs / r.cpFullMs, 1) : 'n/a'} faster than \`npm ci\` (table above).`,
      '- making the linked files read-only would protect the main checkout, but a hard link shares the mode bits too:',
      "  it would make the user's own node_modules read-only. Rejected.",
      '- hard links plus detection (chosen for `auto` on filesystems without clones): `findWritesThroughLinks` finds',
      '  files under the worktree\'s node_modules that still have more than one link and were modified after',
      '  provisioning, so the run can warn that the main checkout\'s copy changed (and `npm ci` there repairs it).',
      '  Writing into installed packages is rare for a coding agent and wrong in any case; the gain is an order of',
      '  magnitude in set-up time and nearly all of the disk, per worktree.',
      '',
      'Users who cannot accept the risk set `worktrees.provision: "reflink"` (safe, a no-op on ext4) or `"off"`.',
    ].join('\n');
  },
  summary(r) {
    const link = median(r.linkMs);
    const speed = r.npmCiWorktreeMs !== undefined ? r.npmCiWorktreeMs / link : Number.NaN;
    const disk = r.duNpmKb !== undefined ? r.duLinkedExtraKb / r.duNpmKb : Number.NaN;
    return [
      { what: 'worktree dependencies: npm ci time / provisioning time', measured: fmt.ratio(speed, 0), target: '>= 10x', met: Number.isFinite(speed) ? speed >= 10 : undefined },
      { what: 'worktree dependencies: provisioned disk / npm ci disk', measured: fmt.pct(disk), target: '<= 10 %', met: Number.isFinite(disk) ? disk <= 0.1 : undefined },
    ];
  },
};
