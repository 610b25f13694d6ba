import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Which executable runs Claude Code. Order: the explicit `agent.command` from the config; `claude` on PATH (what the
 * user has installed and logged in with); the orchestrator's own pinned `node_modules/.bin/claude`.
 */

export interface ResolvedCommand {
  file: string;
  /** Leading arguments that come before ours (from agent.command). */
  args: string[];
  source: 'config' | 'path' | 'project';
}

export interface ResolveOptions {
  command?: string[];
  projectRoot?: string;
}

export function resolveClaudeCommand(opts: ResolveOptions, env: NodeJS.ProcessEnv): ResolvedCommand | undefined {
  if (opts.command && opts.command.length > 0) {
    const [file, ...args] = opts.command;
    return { file: file!, args, source: 'config' };
  }
  const onPath = findOnPath('claude', env.PATH);
  if (onPath) return { file: onPath, args: [], source: 'path' };
  const root = opts.projectRoot ?? findPackageRoot();
  const pinned = root ? join(root, 'node_modules', '.bin', 'claude') : undefined;
  if (pinned && isExecutableFile(pinned)) return { file: pinned, args: [], source: 'project' };
  return undefined;
}

/** Every place resolution looked, for the "not found" message. */
export function describeSearch(opts: ResolveOptions): string {
  const root = opts.projectRoot ?? findPackageRoot();
  const pinned = root ? ` and ${join(root, 'node_modules', '.bin', 'claude')}` : '';
  return `\`claude\` on PATH${pinned}`;
}

export function commandLabel(cmd: ResolvedCommand): string {
  return [cmd.file, ...cmd.args].join(' ');
}

export function findOnPath(name: string, pathVar: string | undefined): string | undefined {
  if (isAbsolute(name)) return isExecutableFile(name) ? name : undefined;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

const PACKAGE_NAME = 'milestone-orchestrator';

/** The orchestrator's package root, found from this module's location (works from src/ under vitest and from dist/). */
export function findPackageRoot(start = dirname(fileURLToPath(import.meta.url))): string | undefined {
  let dir = start;
  for (;;) {
    if (readPackageName(join(dir, 'package.json')) === PACKAGE_NAME) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readPackageName(path: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null && 'name' in parsed && typeof parsed.name === 'string'
      ? parsed.name
      : undefined;
  } catch {
    return undefined;
  }
}
