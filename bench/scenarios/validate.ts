import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, runCli, tempDir } from '../lib/cli-run.js';
import { generatePlan, milestoneMarkdown, unevenMinutes } from '../lib/plan-gen.js';
import { command, table, verdict, type Scenario } from '../lib/scenario.js';
import { fmt, median } from '../lib/stats.js';

const MILESTONES = 200;
const REPS = 5;
/** What `--validate-only` needs: config, milestones, plan, and git for the repository check. */
const VALIDATION_MODULES = ['config/load.js', 'milestones/load.js', 'plan/index.js', 'git/repo.js', 'cli/print.js'];

export interface ValidateResult {
  milestones: number;
  reps: number;
  /** Wall ms of each repetition. */
  bare: number[];
  version: number[];
  /** A bare Node that imports only the modules validation needs, then exits. */
  modules: number[];
  small: number[];
  large: number[];
}

function nodeBare(): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('close', () => resolve(performance.now() - t0));
  });
}

function importOnly(): Promise<number> {
  const code = VALIDATION_MODULES.map((m) => `await import(${JSON.stringify(path.join(ROOT, 'dist', m))});`).join(' ');
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (c) => (c === 0 ? resolve(performance.now() - t0) : reject(new Error(`importing the validation modules failed (${c})`))));
  });
}

function folder(count: number, stages: number): string {
  const dir = tempDir('mo-bench-validate-');
  mkdirSync(path.join(dir, 'milestones'));
  for (const t of generatePlan(7, { tasks: count, stages, duration: unevenMinutes })) {
    writeFileSync(path.join(dir, 'milestones', `${t.id}.md`), milestoneMarkdown(t));
  }
  return dir;
}

async function timed(args: string[], cwd: string): Promise<number> {
  const run = await runCli(args, { cwd });
  if (run.exitCode !== 0) throw new Error(`orchestrate ${args.join(' ')} exited ${run.exitCode}: ${run.stderr.slice(0, 1000)}`);
  return run.wallMs;
}

export const validate: Scenario<ValidateResult> = {
  name: 'validate',
  title: '`--validate-only` on 200 milestones vs a bare Node start',
  expectedSeconds: 15,
  async run(log) {
    const large = folder(MILESTONES, 8);
    const small = folder(10, 2);
    try {
      const r: ValidateResult = { milestones: MILESTONES, reps: REPS, bare: [], version: [], modules: [], small: [], large: [] };
      await timed(['--validate-only'], large); // warm the page cache
      for (let i = 0; i < REPS; i++) {
        r.bare.push(await nodeBare());
        r.version.push(await timed(['--version'], small));
        r.modules.push(await importOnly());
        r.small.push(await timed(['--validate-only'], small));
        r.large.push(await timed(['--validate-only'], large));
      }
      log(`  median: node -e 0 ${fmt.ms(median(r.bare))}, --version ${fmt.ms(median(r.version))}, 10 milestones ${fmt.ms(median(r.small))}, ${MILESTONES} milestones ${fmt.ms(median(r.large))}`);
      return r;
    } finally {
      rmSync(large, { recursive: true, force: true });
      rmSync(small, { recursive: true, force: true });
    }
  },
  render(r) {
    const bare = median(r.bare);
    const large = median(r.large);
    const ratio = large / bare;
    const perMilestone = (large - median(r.small)) / (r.milestones - 10);
    const lazySaving = Math.max(0, median(r.version) - median(r.modules));
    const lazyRatio = (large - lazySaving) / bare;
    const parsing = perMilestone * r.milestones;
    const budget = 4 * bare - median(r.modules);
    return [
      `Reproduce: \`${command('validate')}\``,
      '',
      `\`node dist/cli/bin.js --validate-only\` in a folder of ${r.milestones} generated milestones (8 stages x 25, with dependencies and`,
      `estimates), against \`node -e 0\`; ${r.reps} runs each, interleaved, medians. \`--version\` is the CLI's start-up (its entry module`,
      'and what that imports eagerly); "validation modules only" is a bare Node importing just what validation uses',
      `(${VALIDATION_MODULES.join(', ')}); 10 milestones gives the fixed cost of validating a small plan.`,
      '',
      table(
        ['command', 'median', 'vs node -e 0'],
        [
          ['node -e 0', fmt.ms(bare), '1x'],
          ['node, importing the validation modules only', fmt.ms(median(r.modules)), fmt.ratio(median(r.modules) / bare, 2)],
          ['orchestrate --version (CLI start-up)', fmt.ms(median(r.version)), fmt.ratio(median(r.version) / bare, 2)],
          ['orchestrate --validate-only, 10 milestones', fmt.ms(median(r.small)), fmt.ratio(median(r.small) / bare, 2)],
          [`orchestrate --validate-only, ${r.milestones} milestones`, fmt.ms(large), fmt.ratio(ratio, 2)],
        ],
      ),
      '',
      `- ${r.milestones} milestones against a bare Node start: ${fmt.ratio(ratio, 2)}: target <= 4x ${verdict(ratio <= 4)}.`,
      `- Where the time goes: start-up (\`--version\`) is ${fmt.ratio(median(r.version) / bare, 2)} a bare start, and each milestone costs about`,
      `  ${fmt.ms(perMilestone, 1)} (read, front matter, markdown parse, checks, plan): ${fmt.ms(parsing)} for ${r.milestones}.`,
      lazySaving < 0.15 * median(r.version)
        ? '  The CLI already imports the run, status and clean code only when those paths are taken (`--version` costs about'
        : `  \`dist/cli/main.js\` still loads code validation does not need: importing it only when taken would save about ${fmt.ms(lazySaving)}`,
      lazySaving < 0.15 * median(r.version)
        ? `  what the validation modules alone cost), so what is left is those modules: ${fmt.ratio(median(r.modules) / bare, 2)} a bare start on their own.`
        : `  (${fmt.ratio(lazyRatio, 2)} instead of ${fmt.ratio(ratio, 2)}).`,
      '  A CPU profile (`node --cpu-prof`) of the 200-milestone run puts the markdown parser first (micromark /',
      '  mdast-util-from-markdown with a cold JIT: every file is parsed once) and `shortTitle` in',
      '  src/milestones/content-checks.ts second: it compiles a new Unicode-property regular expression (`\\p{L}`, flags',
      '  `iu`) for every milestone, about 0.5-1.5 ms each; one shared regex that captures the id costs about 0.05 ms.',
      `- What would reach it: within 4x, ${budget > 0 ? `${fmt.ms(budget / r.milestones, 2)} per milestone is left` : 'nothing is left for the milestones'} once the validation modules are loaded.`,
      '  So both parts must shrink: loading (bundle the CLI into one file with esbuild/rollup to cut module resolution',
      "  and compilation, or V8's compile cache, `module.enableCompileCache()`, Node >= 22.1; the heaviest imports are",
      '  zod, yaml, cosmiconfig, unified/remark-parse, gray-matter and execa) and parsing (the shared regex in',
      '  `shortTitle`; an outline of headings, list items and fences from a line scanner instead of a full CommonMark',
      '  parse per file). Neither is a change to tune here; without both the target is out of reach on this box.',
      '  On an idle machine every figure shrinks, a bare start included; the ratios move less.',
    ].join('\n');
  },
  summary(r) {
    const ratio = median(r.large) / median(r.bare);
    return [{ what: `--validate-only, ${r.milestones} milestones / node -e 0`, measured: fmt.ratio(ratio, 2), target: '<= 4x', met: ratio <= 4 }];
  },
};
