import { error, type Diagnostic } from '../diagnostics.js';
import type { ParsedYaml } from './front-matter.js';
import { isSettingKey, SETTING_ALIASES } from './task-settings.js';

/**
 * The part of front matter reading every milestone file needs: whether the file has front matter at all, and the
 * problems of one that has none. Kept apart from front-matter.ts, whose YAML parser and gray-matter load only
 * when some file has front matter (milestones/load.ts).
 */

export interface FrontMatterSplit {
  /** The YAML between the fences, or null when the file has no front matter. */
  yaml: string | null;
  /** That YAML parsed (by gray-matter's engine, below), or null when there is none. */
  parsed: ParsedYaml | null;
  /** 1-based file line of the YAML's first line. */
  yamlStartLine: number;
  /** Everything after the closing fence (the whole text when there is no front matter). */
  body: string;
  /** Where `body` starts in the text. */
  bodyOffset: number;
  /** 1-based file line where `body` starts. */
  bodyStartLine: number;
  diagnostics: Diagnostic[];
}

/** The opening fence. Stricter than gray-matter, which also takes "---yaml" (a language name) or "--- x". */
const OPENING_FENCE = /^---[ \t]*(?:\n|$)/;

/** Whether normalised text opens with front matter (line 1 is `---`). */
export function hasFrontMatter(text: string): boolean {
  return OPENING_FENCE.test(text);
}

/**
 * The split of a text without front matter: all of it is body, with a diagnostic for settings that would silently
 * be read as markdown. Undefined when the text has front matter (front-matter.ts splits it).
 */
export function splitWithoutFrontMatter(text: string, file: string): FrontMatterSplit | undefined {
  if (hasFrontMatter(text)) return undefined;
  const misplaced = misplacedFrontMatter(text, file);
  return { yaml: null, parsed: null, yamlStartLine: 1, body: text, bodyOffset: 0, bodyStartLine: 1, diagnostics: misplaced ? [misplaced] : [] };
}

/** Whether `text` has a `key: value` line for a known setting: settings, not prose between horizontal rules. */
function hasSettingLine(text: string): boolean {
  return [...text.matchAll(/^([A-Za-z_][\w-]*)[ \t]*:(?:[ \t]|$)/gm)].some((match) => {
    const key = (match[1] ?? '').toLowerCase();
    return isSettingKey(key) || Object.hasOwn(SETTING_ALIASES, key);
  });
}

/**
 * Settings that would silently be read as markdown: front matter after blank lines (the `---` then becomes a
 * horizontal rule and `key: value` a heading), or TOML front matter between `+++` lines.
 */
function misplacedFrontMatter(text: string, file: string): Diagnostic | undefined {
  const lines = text.split('\n');
  const first = lines.findIndex((line) => line.trim() !== '');
  if (first === -1) return undefined;
  const fence = lines[first]?.trimEnd();
  if (fence !== '---' && fence !== '+++') return undefined;
  const closing = lines.findIndex((line, index) => index > first && line.trimEnd() === fence);
  if (closing === -1) return undefined;
  const inside = lines.slice(first + 1, closing).join('\n');
  const at = { file, line: first + 1, col: 1 };
  if (fence === '+++') {
    if (!/^[A-Za-z_][\w-]*[ \t]*=/m.test(inside)) return undefined;
    return error('unsupported-front-matter', `TOML front matter ("+++" on lines ${first + 1}-${closing + 1}) is not supported; it would be read as milestone text and its settings ignored`, {
      ...at,
      hint: 'write the settings as YAML between two "---" lines at the top of the file, e.g. "model: sonnet" instead of model = "sonnet"',
    });
  }
  if (first === 0 || !hasSettingLine(inside)) return undefined;
  return error('front-matter-not-at-start', `front matter must start on line 1, but the "---" on line ${first + 1} comes after blank lines, so its settings would be read as milestone text and ignored`, {
    ...at,
    hint: `remove the blank line${first === 1 ? '' : 's'} before line ${first + 1}`,
  });
}

