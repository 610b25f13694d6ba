import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { cosmiconfig, defaultLoaders, getDefaultSearchPlaces, type Loader } from 'cosmiconfig';
import { error, warning, type Diagnostic } from '../diagnostics.js';
import { bytePosition, firstInvalidUtf8Byte } from '../util/utf8.js';
import { parseJsonSource } from './json-source.js';
import { ConfigSyntaxError, type ParsedSource, type SourceProblem } from './source.js';

const MODULE = 'orchestrator';

/** `orchestrator.config.json` is the documented name, so it wins; then YAML twins, then cosmiconfig's usual places. */
export const SEARCH_PLACES = [
  `${MODULE}.config.json`,
  `${MODULE}.config.yaml`,
  `${MODULE}.config.yml`,
  ...getDefaultSearchPlaces(MODULE),
];

export interface FoundConfig {
  /** Absolute path of the file read. */
  filepath: string;
  /** The file as the user should see it: relative to the repository root, forward slashes. */
  display: string;
  /** The config object as written (undefined for an empty file). */
  value: unknown;
  /** Key positions; absent for JavaScript configs, which have no stable text to point into. */
  source?: ParsedSource;
  /** Keys above the config inside the file: `["orchestrator"]` for package.json. */
  prefix: string[];
}

export interface FindResult {
  found: FoundConfig | null;
  diagnostics: Diagnostic[];
}

export interface FindOptions {
  repoRoot: string;
  /** An explicitly named file: its absolute path, and how the user named it (`--config`...) for messages. */
  explicit?: { path: string; via: string };
  /**
   * Whether a JavaScript config found by searching may be loaded (run). A named one (`explicit`) always may: the
   * user asked for it. Default false: a cloned repository's `orchestrator.config.js` would otherwise run its code
   * on `--validate-only`, `status` or `clean` without a word.
   */
  allowJavaScript?: boolean;
}

/** The variable that allows a JavaScript config found by searching (`=1`). */
export const ALLOW_JS_CONFIG_VARIABLE = 'ORCHESTRATOR_ALLOW_JS_CONFIG';

/** Thrown by the JavaScript loader when a found module may not run. */
class UntrustedJavaScriptConfig extends Error {
  constructor(readonly filepath: string) {
    super(`refused to run ${filepath}`);
  }
}

/**
 * Finds and reads the config file. Only `repoRoot` itself is searched (cosmiconfig's `searchStrategy:
 * 'none'`): a config in a parent directory belongs to some other project. Every failure is a diagnostic.
 */
export async function findConfig(opts: FindOptions): Promise<FindResult> {
  const display = (file: string) => displayPath(opts.repoRoot, file);

  if (opts.explicit) {
    const problem = checkExplicitFile(opts.explicit.path, opts.explicit.via, display);
    if (problem) return { found: null, diagnostics: [problem] };
  }

  const sources = new Map<string, ParsedSource>();
  try {
    // Inside the try: cosmiconfig reads a "meta config" from the working directory and throws on a bad one.
    const explorer = createExplorer(sources, opts.explicit !== undefined || opts.allowJavaScript === true);
    const result = opts.explicit ? await explorer.load(opts.explicit.path) : await explorer.search(opts.repoRoot);
    if (!result) return { found: null, diagnostics: [] };
    const isPackageJson = path.basename(result.filepath) === 'package.json';
    const source = sources.get(result.filepath);
    return {
      found: {
        filepath: result.filepath,
        display: display(result.filepath),
        value: result.config,
        ...(source ? { source } : {}),
        prefix: isPackageJson ? [MODULE] : [],
      },
      diagnostics: (source?.warnings ?? []).map((w) =>
        warning('config-duplicate-key', w.message, { file: display(result.filepath), line: w.line, col: w.col }),
      ),
    };
  } catch (e) {
    if (e instanceof UntrustedJavaScriptConfig) return { found: null, diagnostics: [untrustedJavaScript(display(e.filepath))] };
    return { found: null, diagnostics: loadFailure(e, display) };
  }
}

function untrustedJavaScript(file: string): Diagnostic {
  return error(
    'config-untrusted-js',
    `${file} is a JavaScript configuration: loading it runs its code with your rights, so it is not loaded unless you ask for it`,
    {
      file,
      hint: `read it, then run with --config ${file} (or ${ALLOW_JS_CONFIG_VARIABLE}=1 in the environment); or use orchestrator.config.json instead`,
    },
  );
}

function createExplorer(sources: Map<string, ParsedSource>, allowJavaScript: boolean) {
  const untrusted: Loader = (filepath) => {
    throw new UntrustedJavaScriptConfig(filepath);
  };
  const loadJs: Loader = allowJavaScript ? loadJsModule : untrusted;
  // cosmiconfig also searches orchestrator.config.ts (and .orchestratorrc.ts …) and compiles and runs it with
  // TypeScript when that is installed: code, like a JavaScript config, so it is gated the same way.
  const loadTs: Loader = allowJavaScript ? defaultLoaders['.ts'] : untrusted;
  // The YAML parser loads only for a YAML configuration: most start-ups (a JSON one, or none) never need it.
  const yaml: Loader = async (filepath, content) => recording(sources, (await import('./yaml-source.js')).parseYamlSource)(filepath, content);
  return cosmiconfig(MODULE, {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'none',
    // An empty orchestrator.config.json is a config that keeps every default, not a reason to look further.
    ignoreEmptySearchPlaces: false,
    cache: false,
    loaders: {
      '.json': recording(sources, parseJsonObject),
      '.yaml': yaml,
      '.yml': yaml,
      noExt: yaml,
      '.js': loadJs,
      '.mjs': loadJs,
      '.cjs': loadJs,
      '.ts': loadTs,
    },
  });
}

/** JSON has no comments, so unlike YAML an explicit `null` is not an empty file but a mistake. */
function parseJsonObject(text: string): ParsedSource {
  const parsed = parseJsonSource(text);
  if (parsed.value === null) {
    const at = parsed.positions.get('[]') ?? { line: 1, col: 1 };
    throw new ConfigSyntaxError([{ ...at, message: 'the configuration is null; expected an object of settings', hint: 'write {} for all defaults, or delete the file' }]);
  }
  return parsed;
}

/**
 * cosmiconfig's own JavaScript loader falls back to require() when import() fails, and on Node >= 20.19 the
 * require() error ("Cannot require() ES Module ... race condition ...") then hides the real one, e.g. a syntax
 * error. import() alone loads ESM and CommonJS alike.
 */
async function loadJsModule(filepath: string): Promise<unknown> {
  const module = (await import(pathToFileURL(await realpath(filepath)).href)) as { default?: unknown };
  return module.default;
}

/** Keeps each parsed text's key positions, which cosmiconfig itself discards. */
function recording(sources: Map<string, ParsedSource>, parse: (text: string) => ParsedSource): Loader {
  return (filepath, content) => {
    // cosmiconfig decodes the bytes leniently: a file that is not UTF-8 would be read with U+FFFD in its values.
    const notUtf8 = firstInvalidUtf8(readFileSync(filepath));
    if (notUtf8) throw new ConfigSyntaxError([notUtf8]);
    const parsed = parse(content);
    sources.set(filepath, parsed);
    // cosmiconfig reads `undefined` as "empty file" and `null` as "no config here"; a comment-only YAML
    // file parses to null but is an empty config.
    return parsed.value ?? undefined;
  };
}

/**
 * Where the first byte sequence that is not UTF-8 starts (1-based line, and column in characters), as a syntax
 * problem; undefined for valid UTF-8. A file saved as Latin-1 ("café" as 0x63 0x61 0x66 0xE9) is the usual case.
 */
export function firstInvalidUtf8(bytes: Uint8Array): SourceProblem | undefined {
  const bad = firstInvalidUtf8Byte(bytes);
  if (bad === -1) return undefined;
  return {
    ...bytePosition(bytes, bad),
    message: `the file is not valid UTF-8 (byte 0x${(bytes[bad] ?? 0).toString(16).toUpperCase().padStart(2, '0')} here)`,
    hint: 'save it as UTF-8 (in most editors: "Save with encoding" → UTF-8), or re-encode it: iconv -f latin1 -t utf-8',
  };
}

const SUPPORTED_EXTENSIONS = Object.keys(defaultLoaders).filter((ext) => ext.startsWith('.'));

function checkExplicitFile(file: string, via: string, display: (f: string) => string): Diagnostic | undefined {
  if (!existsSync(file)) {
    return error('config-not-found', `config file ${display(file)} (named by ${via}) does not exist`, {
      hint: `looked for ${file}`,
    });
  }
  if (statSync(file).isDirectory()) {
    return error('config-not-found', `config path ${display(file)} (named by ${via}) is a directory, not a file`);
  }
  const ext = path.extname(file);
  if (ext !== '' && !SUPPORTED_EXTENSIONS.includes(ext)) {
    return error('config-unsupported', `config file ${display(file)} has an unsupported type "${ext}"`, {
      hint: `use one of: ${SUPPORTED_EXTENSIONS.join(', ')}`,
    });
  }
  return undefined;
}

function loadFailure(e: unknown, display: (f: string) => string): Diagnostic[] {
  const filepath = (e as { filepath?: unknown }).filepath;
  const file = typeof filepath === 'string' ? display(filepath) : undefined;
  const at = file !== undefined ? { file } : {};
  const syntax = e instanceof ConfigSyntaxError ? e : typeof filepath === 'string' ? reparseJson(filepath) : undefined;
  if (syntax) {
    return syntax.problems.map((p) => error('config-syntax', p.message, { ...at, line: p.line, col: p.col, ...(p.hint ? { hint: p.hint } : {}) }));
  }
  const invalid = typeof filepath === 'string' && /\.[cm]?js$/.test(filepath) ? checkJavaScript(filepath) : undefined;
  if (invalid) return [error('config-syntax', `invalid JavaScript: ${invalid.message}`, { ...at, ...invalid.at, hint: 'fix the syntax of the config module here' })];
  const message = e instanceof Error ? e.message : String(e);
  return [error('config-load-failed', `could not load the config file: ${message}`, at)];
}

/**
 * A JSON file that failed outside our loader: cosmiconfig reads package.json in the working directory itself
 * (for its own "meta" settings) and reports a bad one with a code frame and no position. Read it again with our
 * parser to say where.
 */
function reparseJson(filepath: string): ConfigSyntaxError | undefined {
  if (path.extname(filepath) !== '.json') return undefined;
  try {
    parseJsonSource(readFileSync(filepath, 'utf8'));
  } catch (cause) {
    if (cause instanceof ConfigSyntaxError) return cause;
  }
  return undefined;
}

/**
 * A JavaScript config that failed to load: is it a syntax error? `node --check` says so and where ("file:line",
 * the line, a caret, then "SyntaxError: ..."), independent of how the module was loaded. Undefined when the
 * syntax is fine (the module threw while running, say).
 */
function checkJavaScript(filepath: string): { message: string; at: { line: number; col: number } | Record<string, never> } | undefined {
  const check = spawnSync(process.execPath, ['--check', filepath], { encoding: 'utf8', timeout: 10_000 });
  if (check.status !== 1) return undefined;
  const lines = (check.stderr ?? '').split(/\r?\n/);
  const message = lines.find((line) => line.startsWith('SyntaxError: '))?.slice('SyntaxError: '.length);
  if (!message) return undefined;
  const head = lines.findIndex((line) => /:\d+$/.test(line));
  const line = head === -1 ? Number.NaN : Number(/:(\d+)$/.exec(lines[head] ?? '')?.[1]);
  if (!Number.isInteger(line)) return { message, at: {} };
  const caret = lines[head + 2]?.indexOf('^') ?? -1;
  return { message, at: { line, col: caret >= 0 ? caret + 1 : 1 } };
}

/** Relative to the repository root with forward slashes, as diagnostics show paths. */
export function displayPath(repoRoot: string, file: string): string {
  const relative = path.relative(repoRoot, file);
  if (relative === '' || path.isAbsolute(relative)) return file.split(path.sep).join('/');
  return relative.split(path.sep).join('/');
}
