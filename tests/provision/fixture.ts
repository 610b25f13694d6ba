import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Writes a file, creating its folders; `mode` e.g. 0o755 for a script. */
export function write(file: string, content: string, mode?: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  if (mode !== undefined) chmodSync(file, mode);
}

/** A package `hello` as npm installs it: main module, a bin script, the .bin link, npm's hidden lockfile. */
export function installHello(root: string, version = '1.0.0'): void {
  const nm = path.join(root, 'node_modules');
  write(path.join(nm, 'hello/package.json'), JSON.stringify({ name: 'hello', version, main: 'lib/index.js', bin: { hello: 'bin/hello.js' } }));
  write(path.join(nm, 'hello/lib/index.js'), `module.exports = require('./words.js').greeting;\n`);
  write(path.join(nm, 'hello/lib/words.js'), `exports.greeting = 'hello from ${version}';\n`);
  write(path.join(nm, 'hello/bin/hello.js'), `#!/usr/bin/env node\nconsole.log(require('../lib/index.js'));\n`, 0o755);
  mkdirSync(path.join(nm, '.bin'), { recursive: true });
  symlinkSync('../hello/bin/hello.js', path.join(nm, '.bin/hello'));
  write(path.join(nm, '.package-lock.json'), JSON.stringify({ name: 'app', lockfileVersion: 3, packages: { 'node_modules/hello': { version } } }));
}

export function lockfile(version = '1.0.0'): string {
  return JSON.stringify({ name: 'app', lockfileVersion: 3, packages: { '': { name: 'app', dependencies: { hello: version } }, 'node_modules/hello': { version } } }, null, 2);
}
