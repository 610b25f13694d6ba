import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, it, type ExpectStatic } from 'vitest';
import { runCli } from '../support/cli.js';
import { defaultPaths } from '../support/paths.js';
import { makeRepo, snapshotRepo, type TempRepo } from '../support/git-repo.js';

/**
 * The first thing a new user runs is `--validate-only`, on folders nobody in this repository wrote. Each case
 * here is a mistake (or an oddity) seen in real milestone folders. A bad one must exit 2 with the file and, when
 * there is one, the line in the message, never a stack trace, and leave the repository exactly as it was; a good
 * one must exit 0 and print its plan.
 */

/** The "Creating Milestones" example of the original tool's README, with a different title/dependencies/estimate. */
function seed(id: string, deps = '- None (first milestone)', title = 'Initial Setup', estimate = '2 hours'): string {
  return [
    `# Milestone ${id} - ${title}`,
    '',
    '## Description',
    'Create the foundational project structure and configuration.',
    '',
    '## Entry Requirements',
    '- Git repository initialized',
    '- Node.js and Python installed',
    '',
    '## Tasks',
    '1. Create project directory structure',
    '2. Initialize package.json',
    '3. Setup configuration files',
    '4. Create README.md',
    '',
    '## Exit Criteria',
    '- All files created and committed',
    '- Tests pass',
    '- Documentation updated',
    '',
    '## Dependencies', // line 21
    deps, // line 22
    '',
    '## Estimated Time',
    estimate,
    '',
  ].join('\n');
}

const SHORT = '# Short one\n\n## Tasks\n1. do it\n\n## Exit Criteria\n- done\n\n## Estimated Time\n1h\n';
const withFrontMatter = (yaml: string, body = SHORT) => `---\n${yaml}\n---\n${body}`;

type FileSpec = string | Buffer | { symlink: string };

interface Case {
  name: string;
  /** Paths relative to the repository. */
  files: Record<string, FileSpec>;
  args?: string[];
  env?: Record<string, string>;
  /** Run from this subdirectory of the repository. */
  cwd?: string;
  /** A plain folder instead of a git repository. */
  noGit?: boolean;
}

interface BadCase extends Case {
  /** Every one must appear in stderr: that all of them do is the "everything at once" check. */
  stderr: (string | RegExp)[];
}

interface GoodCase extends Case {
  stdout: (string | RegExp)[];
}

const BAD: BadCase[] = [
  {
    name: 'misnamed files next to a good one, and documentation other than README.md',
    files: { 'milestones/1A.md': seed('1A'), 'milestones/1b.md': seed('1B'), 'milestones/A2.md': seed('2A'), 'milestones/NOTES.md': 'notes\n', 'milestones/README.md': '# about\n' },
    stderr: [
      /milestones\/1b\.md: error: "1b\.md" is not a valid milestone file name.*\n {2}hint: rename it to 1B\.md/,
      /milestones\/A2\.md: error: .*\n {2}hint: rename it to 2A\.md/,
      'milestones/NOTES.md: error:',
    ],
  },
  {
    name: 'an empty file, a whitespace-only file and a title-only file, all reported at once',
    files: { 'milestones/1A.md': '', 'milestones/1B.md': ' \n\t\n', 'milestones/1C.md': '# Milestone 1C - Later\n' },
    stderr: ['milestones/1A.md:1:1: error: the file is empty', 'milestones/1B.md:1:1: error: the file is empty', /milestones\/1C\.md:1:1: error: the milestone has a title .* but nothing else/],
  },
  {
    name: 'unclosed front matter',
    files: { 'milestones/1A.md': '---\nmodel: sonnet\n# Milestone 1A - X\n\n## Tasks\n1. x\n' },
    stderr: ['milestones/1A.md:1:1: error: the front matter opened by "---" on line 1 is never closed'],
  },
  {
    name: 'YAML errors of several kinds in several files',
    files: {
      'milestones/1A.md': withFrontMatter('checks:\n\t- npm test'),
      'milestones/1B.md': withFrontMatter('model: a\nmodel: b'),
      'milestones/1C.md': withFrontMatter('- model: a\n- review: false'),
      'milestones/1D.md': withFrontMatter('checks:\n  - npm test\n   - npm run lint'),
    },
    stderr: [
      'milestones/1A.md:3:1: error: invalid YAML in front matter: Tabs are not allowed as indentation',
      'milestones/1B.md:3:1: error: invalid YAML in front matter: Map keys must be unique',
      'milestones/1C.md:2:1: error: front matter must be a mapping of settings, but it is a list',
      'milestones/1D.md:4:4: error: checks: the "- " on line 4 is indented further than the item above it',
    ],
  },
  {
    name: 'front matter values of the wrong type, a timeout no timer can hold, and a typo in a key',
    files: { 'milestones/1A.md': withFrontMatter('timeout: 30d\nmodle: opus\nmax_turns: lots\nreview: "no"\nallowed_tools: 7') },
    stderr: [
      'milestones/1A.md:2:1: error: timeout: expected at most 2147483 seconds (about 24 days), got "30d"',
      /milestones\/1A\.md:3:1: error: unknown front matter key "modle"\n {2}hint: did you mean "model"\?/,
      'milestones/1A.md:4:1: error: max_turns: expected a whole number >= 1, got "lots"',
      'milestones/1A.md:5:1: error: review: expected true or false, got "no"',
      'milestones/1A.md:6:1: error: allowed_tools:',
    ],
  },
  {
    name: 'front matter after a blank line (would silently be ignored) and TOML front matter',
    files: { 'milestones/1A.md': `\n${withFrontMatter('depends_on: 1B')}`, 'milestones/1B.md': `+++\nmodel = "opus"\n+++\n${SHORT}` },
    stderr: ['milestones/1A.md:2:1: error: front matter must start on line 1', 'milestones/1B.md:1:1: error: TOML front matter'],
  },
  {
    name: 'a dependency cycle of three',
    files: { 'milestones/1A.md': seed('1A', '- 1C'), 'milestones/1B.md': seed('1B', '- 1A'), 'milestones/1C.md': seed('1C', '- 1B') },
    stderr: ['milestones/1A.md:22:3: error: dependency cycle: 1A -> 1C -> 1B -> 1A'],
  },
  {
    name: 'a self-dependency, a dependency on a later stage and an unknown one',
    files: { 'milestones/1A.md': seed('1A', '- 1A'), 'milestones/1B.md': seed('1B', 'Depends on 2A and 3C'), 'milestones/2A.md': seed('2A') },
    stderr: [
      'milestones/1A.md:22:3: error: 1A depends on itself',
      'milestones/1B.md:22:12: error: 1B (stage 1) depends on 2A, which is in the later stage 2',
      'milestones/1B.md:22:19: error: 1B depends on 3C, but there is no milestone 3C',
    ],
  },
  {
    name: 'Latin-1, UTF-16 without a byte-order mark, binary',
    files: {
      'milestones/1A.md': Buffer.from('# Caf\xe9\n\n## Tasks\n1. x\n', 'latin1'),
      'milestones/1B.md': Buffer.from(seed('1B'), 'utf16le'),
      'milestones/1C.md': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]),
    },
    stderr: [
      'milestones/1A.md:1:6: error: the file is not valid UTF-8: byte 0xe9 on line 1',
      'milestones/1B.md:1:1: error: the file looks UTF-16 encoded (without a byte-order mark), not UTF-8',
      'milestones/1C.md:1:5: error: the file looks binary',
    ],
  },
  {
    name: 'a file over 1 MiB, a link out of the folder, a broken link and a link loop',
    files: {
      'milestones/1A.md': `${SHORT}${'x'.repeat(1024 * 1024)}\n`,
      'elsewhere/1B.md': seed('1B'),
      'milestones/1B.md': { symlink: '../elsewhere/1B.md' },
      'milestones/1C.md': { symlink: 'gone.md' },
      'milestones/1D.md': { symlink: '1D.md' },
    },
    stderr: [
      /milestones\/1A\.md: error: "milestones\/1A\.md" is 1,048,\d{3} bytes; a milestone file may be at most 1,048,576 bytes/,
      'milestones/1B.md: error: "milestones/1B.md" is a symbolic link to "../elsewhere/1B.md", outside the milestones folder',
      'milestones/1C.md: error: "milestones/1C.md" is a symbolic link to "gone.md", which does not exist',
      'milestones/1D.md: error: "milestones/1D.md" is a symbolic link to "1D.md", which leads back to itself',
    ],
  },
  {
    name: 'the milestones path is a file',
    files: { milestones: 'not a folder\n' },
    stderr: ['milestones: error: the milestones folder "milestones" is not a folder'],
  },
  {
    name: 'no milestones at all, only a lookalike',
    files: { 'milestones/1A.markdown': seed('1A') },
    stderr: ['milestones: error: no milestone files in "milestones"', 'milestones/1A.markdown: warning: "1A.markdown" is ignored'],
  },
  {
    name: 'the config example of the original README, with its # comments, in orchestrator.config.json',
    files: { 'milestones/1A.md': seed('1A'), 'orchestrator.config.json': '{\n  "max_parallel_tasks": 4,        # Number of parallel tasks\n  "auto_resume": true\n}\n' },
    stderr: [/orchestrator\.config\.json:2:35: error: invalid JSON: comments are not allowed in JSON\n {2}hint: /],
  },
  {
    name: 'a config with wrong types and unknown nested keys, and bad environment variables',
    files: { 'milestones/1A.md': seed('1A'), 'orchestrator.config.json': '{\n  "max_parallel_tasks": "4",\n  "agent": { "timout": 60 },\n  "checks": { "timeout": 1e12 }\n}\n' },
    env: { LOG_LEVEL: 'verbose', AUTO_RESUME: 'maybe' },
    stderr: [
      'orchestrator.config.json:2:3: error: max_parallel_tasks: expected a whole number >= 1, got "4"',
      /orchestrator\.config\.json:3:\d+: error: agent: unknown key "timout" \(did you mean "timeout"\?\)/,
      /orchestrator\.config\.json:4:\d+: error: checks\.timeout: expected a duration of at most/,
      'error: environment variable LOG_LEVEL',
      'error: environment variable AUTO_RESUME',
    ],
  },
  {
    name: 'a JavaScript config with a syntax error',
    files: { 'milestones/1A.md': seed('1A'), 'orchestrator.config.mjs': 'export default {\n  max_parallel_tasks: 2,,\n};\n' },
    env: { ORCHESTRATOR_ALLOW_JS_CONFIG: '1' },
    stderr: ["orchestrator.config.mjs:2:25: error: invalid JavaScript: Unexpected token ','"],
  },
  {
    name: 'a JavaScript config found by searching, not allowed',
    files: { 'milestones/1A.md': seed('1A'), 'orchestrator.config.cjs': 'module.exports = {};\n' },
    stderr: ['orchestrator.config.cjs: error: orchestrator.config.cjs is a JavaScript configuration: loading it runs its code with your rights, so it is not loaded unless you ask for it'],
  },
  {
    name: '--config naming a file that does not exist',
    files: { 'milestones/1A.md': seed('1A') },
    args: ['--validate-only', '--config', 'nope.json'],
    stderr: [/error: config file nope\.json \(named by --config\) does not exist\n {2}hint: looked for .*nope\.json/],
  },
];

const GOOD: GoodCase[] = [
  {
    name: 'the seed format with CRLF line endings and a byte-order mark; --milestone in lower case',
    files: { 'milestones/1A.md': `\uFEFF${seed('1A')}`.replace(/\n/g, '\r\n'), 'milestones/1B.md': seed('1B', '- 1A', 'Second').replace(/\n/g, '\r\n') },
    args: ['--validate-only', '--milestone', '1a'],
    stdout: ['Stage 1 · 1 task · critical path 2h (1A)', '  1A  Initial Setup  2h', 'Selected 1 of 2 tasks'],
  },
  {
    name: 'heading variants: ### with colons, emoji, a "(remark)", Setext; mixed line endings',
    files: {
      'milestones/1A.md': seed('1A').replace(/^## (.*)$/gm, '### $1:'),
      'milestones/1B.md': seed('1B', '- 1A', '🚀 Rocket', '30 min').replace(/^## (.*)$/gm, '## 🚀 $1').replace('Dependencies', 'Dependencies (optional)'),
      'milestones/1C.md': 'Milestone 1C - Setext\n=====\n\nTasks\n-----\n1. a\r\n\r\nExit Criteria\r-----\r- b\n\nEstimated Time\n---\n1h 30m\n',
    },
    stdout: ['  1B  🚀 Rocket', 'after 1A', '  1C  Setext', 'parallel: [1A 1C] → [1B]'],
  },
  {
    name: 'front matter with every key, right types, in the forms people write',
    files: {
      'milestones/1A.md': seed('1A'),
      'milestones/1B.md': seed('1B'),
      'milestones/1C.md': withFrontMatter(
        'depends_on: 1A, 1B\ntimeout: 45m\nmodel: sonnet\nmax_turns: 40\nmax_budget_usd: 2.5\nallowed_tools: "Read, Bash(git log:*)"\nsetup: npm ci\nchecks: []\nreview: false',
      ),
      'milestones/1D.md': withFrontMatter('timeout: 90\nchecks:\n  - npm test\n  - npm run lint'),
    },
    stdout: [/ {2}1C {2}Short one +1h +after 1A, 1B/],
  },
  {
    name: 'dependencies in prose, from a subdirectory of the repository',
    files: {
      'milestones/1A.md': seed('1A'),
      'milestones/1B.md': seed('1B', 'N/A'),
      'milestones/2A.md': seed('2A', 'Depends on 1A and 1B'),
      'milestones/2B.md': seed('2B', '- Milestone 1b\n- Milestone 2a'),
      'milestones/2C.md': seed('2C', 'none'),
      'src/lib/index.js': '// code\n',
    },
    cwd: 'src/lib',
    stdout: [/ {2}2A .* after 1A, 1B/, / {2}2B .* after 1B, 2A/, 'Critical path 6h'],
  },
  {
    name: 'a plain folder that is not a git repository, checked with --cwd from elsewhere',
    files: { 'milestones/1A.md': seed('1A'), 'milestones/old/1B.md': 'drafts are skipped\n' },
    noGit: true,
    args: ['--validate-only', '--cwd', '{root}'],
    cwd: '..',
    stdout: ['Stage 1 · 1 task · critical path 2h (1A)'],
  },
];

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

interface Prepared {
  root: string;
  repo?: TempRepo;
}

function prepare(c: Case): Prepared {
  let root: string;
  let repo: TempRepo | undefined;
  if (c.noGit) {
    root = path.join(realpathSync(mkdtempSync(path.join(tmpdir(), 'mo-plain-'))), 'work');
    mkdirSync(root);
    made.push(path.dirname(root));
  } else {
    repo = makeRepo();
    root = repo.root;
    made.push(root);
  }
  for (const [file, spec] of Object.entries(c.files)) {
    const full = path.join(root, file);
    mkdirSync(path.dirname(full), { recursive: true });
    if (typeof spec === 'object' && !Buffer.isBuffer(spec)) symlinkSync(spec.symlink, full);
    else writeFileSync(full, spec);
  }
  repo?.commit('milestones');
  return { root, ...(repo ? { repo } : {}) };
}

/** The repository as git sees it, plus what git could be told to hide: every file on disk and .git/info/exclude. */
function snapshot({ root, repo }: Prepared): string {
  const exclude = path.join(root, '.git', 'info', 'exclude');
  return [
    repo ? snapshotRepo(repo) : '',
    existsSync(exclude) ? readFileSync(exclude, 'utf8') : '',
    (readdirSync(root, { recursive: true }) as string[])
      .filter((entry) => !entry.startsWith(`.git${path.sep}`) && entry !== '.git')
      .sort()
      .join('\n'),
  ].join('\n---\n');
}

async function run(c: Case) {
  const prepared = prepare(c);
  const before = snapshot(prepared);
  const args = (c.args ?? ['--validate-only']).map((arg) => arg.replace('{root}', prepared.root));
  const result = await runCli(args, { cwd: path.resolve(prepared.root, c.cwd ?? '.'), ...(c.env ? { env: c.env } : {}) });
  return { result, prepared, before, after: snapshot(prepared) };
}

function expectAll(expect: ExpectStatic, text: string, expected: (string | RegExp)[]): void {
  for (const e of expected) {
    if (typeof e === 'string') expect(text).toContain(e);
    else expect(text).toMatch(e);
  }
}

// Concurrent: each case is a git repository and a CLI process, mostly waiting; one after another they take long.
describe('--validate-only over bad milestone folders and configs', () => {
  it.concurrent.for(BAD.map((c) => [c.name, c] as const))('%s', async ([, c], { expect }) => {
    const { result, before, after, prepared } = await run(c);
    expectAll(expect, result.stderr, c.stderr);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toMatch(/internal error|bug in the orchestrator/);
    expect(result.stdout).toBe('');
    expect(after).toBe(before);
    for (const made of ['.orchestrator', 'TASKS.md', defaultPaths(prepared.root).worktreeDir, defaultPaths(prepared.root).logDir]) expect(existsSync(path.resolve(prepared.root, made))).toBe(false);
  });
});

describe('--validate-only over odd but good milestone folders', () => {
  it.concurrent.for(GOOD.map((c) => [c.name, c] as const))('%s', async ([, c], { expect }) => {
    const { result, before, after, prepared } = await run(c);
    expect(result.stderr).not.toMatch(/: error:|^error:/m);
    expect(result.exitCode).toBe(0);
    expectAll(expect, result.stdout, c.stdout);
    expect(after).toBe(before);
    for (const made of ['.orchestrator', 'TASKS.md', defaultPaths(prepared.root).worktreeDir, defaultPaths(prepared.root).logDir]) expect(existsSync(path.resolve(prepared.root, made))).toBe(false);
  });
});
