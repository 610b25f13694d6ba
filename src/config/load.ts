import path from 'node:path';
import type { Diagnostic } from '../diagnostics.js';
import { applyEnvOverrides } from './env.js';
import { ALLOW_JS_CONFIG_VARIABLE, findConfig, type FoundConfig } from './find.js';
import { checkConfiguredFolders } from './paths.js';
import { issuesToDiagnostics, keyPathOf, type IssueContext } from './issues.js';
import { configSchema, defaultConfig, type Config } from './schema.js';
import { locate, pathKey, type KeyPath } from './source.js';

export interface ConfigLoadResult {
  /**
   * Always usable: when the file has problems, the valid parts are kept and every invalid value falls back
   * to its default, so a command such as `validate` can still look at milestones. A run must refuse to
   * start when `diagnostics` holds errors.
   */
  config: Config;
  /** The config file relative to the repository root (forward slashes), or null when defaults were used. */
  source: string | null;
  diagnostics: Diagnostic[];
  /**
   * Whether `config.milestones_dir` is what the user asked for, even when `diagnostics` has errors: true unless
   * the config file could not be read at all or `milestones_dir` itself is invalid. When true, a caller should
   * still check the milestones, so that every problem (configuration AND milestones) is reported in one go; when
   * false, checking the default folder would only report misleading errors.
   */
  milestonesDirTrusted: boolean;
}

export interface LoadConfigOptions {
  repoRoot: string;
  /** From `--config`; wins over `ORCHESTRATOR_CONFIG`. Relative paths are resolved against `cwd`. */
  explicitPath?: string;
  env: NodeJS.ProcessEnv;
  /**
   * Base for a relative `--config` or `ORCHESTRATOR_CONFIG`, default `process.cwd()`: both are typed at a
   * shell, where paths mean "from here" (and tab completion produces them that way).
   */
  cwd?: string;
}

/** Finds, reads and validates the config, then applies `LOG_LEVEL` / `AUTO_RESUME`. Never throws for user errors. */
export async function loadConfig(opts: LoadConfigOptions): Promise<ConfigLoadResult> {
  const explicit = explicitConfig(opts);
  const found = await findConfig({
    repoRoot: path.resolve(opts.repoRoot),
    ...(explicit ? { explicit } : {}),
    allowJavaScript: opts.env[ALLOW_JS_CONFIG_VARIABLE] === '1',
  });
  const diagnostics = [...found.diagnostics];

  let config = defaultConfig();
  // A file that was named but not found, or could not be parsed, may set milestones_dir to anything.
  let milestonesDirTrusted = !found.diagnostics.some((d) => d.severity === 'error');
  if (found.found) {
    const validated = validate(found.found);
    config = validated.config;
    diagnostics.push(...validated.diagnostics);
    if (validated.badPaths.some((badPath) => badPath.length === 0 || badPath[0] === 'milestones_dir')) milestonesDirTrusted = false;
  }
  diagnostics.push(...applyEnvOverrides(config, opts.env));
  const folderProblems = checkConfiguredFolders(config, opts.repoRoot, {
    ...(found.found ? { file: found.found.display } : {}),
    // The key itself or nothing: a folder left at its default has no place in the file to point at.
    locate: (keyPath) => found.found?.source?.positions.get(pathKey([...found.found.prefix, ...keyPath])),
  });
  diagnostics.push(...folderProblems);
  if (folderProblems.some((d) => d.message.startsWith('milestones_dir:'))) milestonesDirTrusted = false;
  return { config, source: found.found?.display ?? null, diagnostics, milestonesDirTrusted };
}

function explicitConfig(opts: LoadConfigOptions): { path: string; via: string } | undefined {
  const cwd = opts.cwd ?? process.cwd();
  if (opts.explicitPath) return { path: path.resolve(cwd, opts.explicitPath), via: '--config' };
  const fromEnv = opts.env.ORCHESTRATOR_CONFIG;
  if (fromEnv) return { path: path.resolve(cwd, fromEnv), via: 'ORCHESTRATOR_CONFIG' };
  return undefined;
}

function validate(found: FoundConfig): { config: Config; diagnostics: Diagnostic[]; badPaths: KeyPath[] } {
  const raw = found.value ?? {};
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (parsed.success) return { config: parsed.data, diagnostics: [], badPaths: [] };

  const ctx: IssueContext = {
    file: found.display,
    prefix: found.prefix,
    locate: (keyPath) => (found.source ? locate(found.source, keyPath) : undefined),
  };
  const diagnostics = issuesToDiagnostics(parsed.error.issues, configSchema, ctx);
  const badPaths = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...keyPathOf(issue), k]) : [keyPathOf(issue)],
  );
  return { config: salvage(raw, badPaths), diagnostics, badPaths };
}

/** The user's valid settings with every invalid one dropped (so it takes its default). */
function salvage(raw: unknown, badPaths: readonly KeyPath[]): Config {
  const pruned = structuredCloneOrNull(raw);
  if (pruned === null) return defaultConfig();
  for (const badPath of badPaths) removeAt(pruned, settingPath(badPath));
  const reparsed = configSchema.safeParse(pruned);
  return reparsed.success ? reparsed.data : defaultConfig();
}

/** A bad list item invalidates the whole list setting: a partial list could mean something else. */
function settingPath(keyPath: KeyPath): KeyPath {
  const firstIndex = keyPath.findIndex((segment) => typeof segment === 'number');
  return firstIndex === -1 ? keyPath : keyPath.slice(0, firstIndex);
}

function removeAt(root: Record<string, unknown>, keyPath: KeyPath): void {
  if (keyPath.length === 0) {
    for (const key of Object.keys(root)) delete root[key];
    return;
  }
  let node: unknown = root;
  for (const segment of keyPath.slice(0, -1)) {
    if (!isRecord(node)) return;
    node = node[String(segment)];
  }
  if (isRecord(node)) delete node[String(keyPath[keyPath.length - 1])];
}

/** JavaScript configs may hold functions, which structuredClone refuses; such a config is not salvageable. */
function structuredCloneOrNull(raw: unknown): Record<string, unknown> | null {
  if (!isRecord(raw)) return {};
  try {
    return structuredClone(raw);
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
