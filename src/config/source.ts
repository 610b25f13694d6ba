/**
 * What the loaders hand back besides the value: where each key sits in the file, so a problem found
 * later by the schema can point at `file:line:col`.
 */

export type KeyPath = readonly (string | number)[];

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export interface SourceProblem extends Position {
  message: string;
  /** What to do about it, when there is something specific to say. */
  hint?: string;
}

export interface ParsedSource {
  value: unknown;
  /** Start of each key (or array item) by `pathKey(path)`; the root value is under `pathKey([])`. */
  positions: Map<string, Position>;
  /** Non-fatal findings, e.g. a JSON key given twice. */
  warnings: SourceProblem[];
}

/** Thrown from inside a cosmiconfig loader so the caller can report every syntax error with its location. */
export class ConfigSyntaxError extends Error {
  constructor(readonly problems: readonly SourceProblem[]) {
    super(problems.map((p) => `${p.line}:${p.col} ${p.message}`).join('; '));
    this.name = 'ConfigSyntaxError';
  }
}

export function pathKey(path: KeyPath): string {
  return JSON.stringify(path);
}

/** The position of `path`, or of its nearest ancestor that the file spells out. */
export function locate(source: Pick<ParsedSource, 'positions'>, path: KeyPath): Position | undefined {
  for (let n = path.length; n >= 0; n--) {
    const found = source.positions.get(pathKey(path.slice(0, n)));
    if (found) return found;
  }
  return undefined;
}

/** 1-based line and column of a character offset. */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Editors on Windows may save a byte-order mark, which JSON.parse rejects. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
