#!/usr/bin/env node
// The `orchestrate` command (package.json "bin"). It always runs: npm starts it through a link (a symlink in the
// prefix's bin folder, a .cmd shim on Windows, npx's cache), so comparing process.argv[1] with this file's own path
// cannot tell whether it is the entry point. Importing it is running it; nothing else imports this file.
import { runAsProcess } from './process-entry.js';

runAsProcess();
