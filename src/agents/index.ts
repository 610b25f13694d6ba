export type * from './types.js';
export { createClaudeAdapter, type ClaudeAdapterOptions } from './claude/adapter.js';
export { STDERR_MARKER } from './transcript.js';
