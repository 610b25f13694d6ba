import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigSyntaxError, pathKey, stripBom, type KeyPath, type ParsedSource, type Position } from './source.js';

/** Parses YAML (also used for the extension-less `.orchestratorrc`), reporting every syntax error with its place. */
export function parseYamlSource(raw: string): ParsedSource {
  const text = stripBom(raw);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number): Position => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    const hint = 'fix the YAML here: "key: value" lines, nested keys indented with spaces (not tabs), quote values that contain ": "';
    throw new ConfigSyntaxError(doc.errors.map((e) => ({ ...at(e.pos[0]), message: `invalid YAML: ${e.message}`, hint })));
  }
  const positions = new Map<string, Position>();
  if (doc.contents) recordPositions(doc.contents, [], positions, at);
  return { value: doc.toJS() as unknown, positions, warnings: [] };
}

function recordPositions(node: Node, path: KeyPath, out: Map<string, Position>, at: (offset: number) => Position): void {
  if (path.length === 0 && node.range) out.set(pathKey(path), at(node.range[0]));
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isScalar(pair.key) || !pair.key.range) continue;
      const childPath = [...path, String(pair.key.value)];
      out.set(pathKey(childPath), at(pair.key.range[0]));
      if (isNode(pair.value)) recordPositions(pair.value, childPath, out, at);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, index) => {
      if (!isNode(item) || !item.range) return;
      const childPath = [...path, index];
      out.set(pathKey(childPath), at(item.range[0]));
      recordPositions(item, childPath, out, at);
    });
  }
}
