import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitFrontMatter } from '../../src/milestones/front-matter.js';
import { parseOutline } from '../../src/milestones/markdown.js';
import { scanOutline } from '../../src/milestones/outline-scan.js';
import { normaliseSource } from '../../src/milestones/source.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function markdownFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'node_modules' ? [] : markdownFiles(full);
    return name.endsWith('.md') ? [full] : [];
  });
}

function bodyOf(text: string): string {
  return splitFrontMatter(normaliseSource(text), 'x.md').body;
}

/** The line scanner either gives up or agrees with the CommonMark parse in every field. */
function expectAgrees(body: string): boolean {
  const scanned = scanOutline(body);
  if (scanned !== undefined) expect(scanned, JSON.stringify(body)).toEqual(parseOutline(body));
  return scanned !== undefined;
}

const SKELETON = '# Milestone 1A - Title\n\n## Description\nText.\n\n## Tasks\n1. Do it\n\n## Exit Criteria\n- Done\n\n## Estimated Time\n1 hour\n';

/** Bodies chosen to hit each rule of the scanner, and the constructs it must leave to the parser. */
const CASES: string[] = [
  SKELETON,
  '',
  '\n\n',
  '# Only a title\n',
  '# Title\n## Tasks\n## Exit Criteria\n',
  '## Milestone 1A\n\nText\n',
  '# Title ##\n\n## Tasks   \n- a\n',
  '# Title#\n\ntext\n',
  '### ###\n\n#\n\n# #\n',
  '#hashtag\n\n####### seven\n',
  '#\tTab\n',
  '# Title\n\n```sh\n# not a heading\nnpm test\n```\n\n## Tasks\n- x\n',
  '# Title\n\n~~~\n# not a heading\n```\n~~~~\n## Tasks\nx\n',
  '# Title\n\n````\n```\n# inside\n````\n## Tasks\nx\n',
  '# Title\n\n```\nunterminated\n# inside\n',
  '# Title\n\n``` not`a fence\n# heading\n',
  '# Title\n<!-- a comment -->\n## Tasks\n- x\n',
  '<!-- only a comment -->\n',
  '<!--\n# inside a comment\n-->\n# Title\n',
  '# Title\n\n<!-- comment --> trailing text\n',
  '# Title\n\n<div>\n# x\n</div>\n',
  '# Title\n\n<!-->\n',
  '# Title\n\nParagraph\n===\n',
  '# Title\n\nParagraph\n---\n\n## Tasks\n',
  '# Title\n\n---\n\n## Tasks\nx\n',
  '# Title\n\n- item\n# Heading after a list\n',
  '# Title\n\n- item\n  # inside the item\n',
  '# Title\n\n    # indented code\n',
  '# Title\n\n> quote\n# after the quote\n',
  '# Title\n\n> # in the quote\n',
  '# Title\n\n1. one\n   ```\n   code\n   ```\n## Tasks\n',
  '# Title with `code`\n',
  '# Title with *emphasis*\n',
  '# Title with [a link](x)\n',
  '# Title &amp; more\n',
  '# Title \\# escaped\n',
  '# Title   with   spaces   \n',
  '   # Indented title\n',
  '[ref]: https://example.com\n',
  '# Title\n\n[ref]: https://example.com\n',
  '# Title\n\n***\n',
  '## Dependencies\n- 1A\n- Milestone 1B\n\n## Estimated Time\n2-3 hours\n',
  '# Title\nline one\nline two\n## Tasks\n',
  '# A\n\n## Description:\nx\n\n### Exit criteria\n- y\n\n## Estimate\n30 min',
];

describe('scanOutline agrees with the CommonMark parse', () => {
  it('on every milestone, example and template in the repository', () => {
    const files = ['milestones', 'examples', 'templates', 'tests'].flatMap((d) => markdownFiles(path.join(ROOT, d)));
    expect(files.length).toBeGreaterThan(10);
    let scanned = 0;
    for (const file of files) if (expectAgrees(bodyOf(readFileSync(file, 'utf8')))) scanned++;
    // Not a scanner that gives up on everything: ordinary milestone files are its job.
    expect(scanned).toBeGreaterThan(files.length / 2);
  });

  it('on each construct it accepts or refuses', () => {
    for (const body of CASES) expectAgrees(body);
  });

  it('reads the usual milestone layout and leaves the ambiguous constructs to the parser', () => {
    for (const body of [SKELETON, '# Title\n\n```sh\n# not a heading\n```\n', '# Title\n<!-- c -->\n## Tasks\n- x\n', '# Title ##\n']) {
      expect(scanOutline(body), body).toBeDefined();
    }
    for (const body of ['# T\n\nParagraph\n---\n', '# T\n\n- item\n  # inside\n', '# T with `code`\n', '# T\n\n<div>\n</div>\n']) {
      expect(scanOutline(body), body).toBeUndefined();
    }
  });

  it('on generated bodies mixing every line kind', () => {
    const kinds = ['# H1', '## Tasks', '### Exit Criteria ###', '', 'text', '- item', '  continued', '1. step', '```', '~~~', '<!-- c -->', '<!--', '-->', '> quote', '---', '===', '    code', '#tag', '* * *', '## ##'];
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    let scanned = 0;
    for (let n = 0; n < 3000; n++) {
      const lines = Array.from({ length: 2 + (next() % 12) }, () => kinds[next() % kinds.length]!);
      if (expectAgrees(`${lines.join('\n')}${next() % 2 ? '\n' : ''}`)) scanned++;
    }
    expect(scanned).toBeGreaterThan(300);
  });
});
