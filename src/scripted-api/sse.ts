import type { ApiMessage, ContentBlock } from './message.js';

/**
 * Server-sent events for a streamed Messages API answer, in the order the real API sends them:
 * message_start, ping, then per block content_block_start / content_block_delta... / content_block_stop,
 * then message_delta (stop_reason, output usage) and message_stop.
 */

/** Deltas are cut to this many characters so clients exercise their accumulation, as with the real API. */
const CHUNK_CHARS = 48;

export function sseFrame(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The opening frame alone: what a `stall` fault sends before going silent. */
export function messageStartFrame(message: ApiMessage): string {
  const { usage } = message;
  return sseFrame('message_start', {
    message: {
      ...message,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...usage, output_tokens: 1 },
    },
  });
}

export function messageFrames(message: ApiMessage): string[] {
  return [
    messageStartFrame(message),
    sseFrame('ping', {}),
    ...message.content.flatMap((block, index) => blockFrames(block, index)),
    sseFrame('message_delta', {
      delta: { stop_reason: message.stop_reason, stop_sequence: null },
      usage: { output_tokens: message.usage.output_tokens },
    }),
    sseFrame('message_stop', {}),
  ];
}

function blockFrames(block: ContentBlock, index: number): string[] {
  const start =
    block.type === 'text' ? { type: 'text', text: '' } : { type: 'tool_use', id: block.id, name: block.name, input: {} };
  const deltas =
    block.type === 'text'
      ? chunks(block.text).map((text) => ({ type: 'text_delta', text }))
      : chunks(JSON.stringify(block.input)).map((partial_json) => ({ type: 'input_json_delta', partial_json }));
  return [
    sseFrame('content_block_start', { index, content_block: start }),
    ...deltas.map((delta) => sseFrame('content_block_delta', { index, delta })),
    sseFrame('content_block_stop', { index }),
  ];
}

/** Splits on code points, never inside a surrogate pair. Always at least one (possibly empty) chunk. */
export function chunks(text: string, size = CHUNK_CHARS): string[] {
  const points = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < points.length; i += size) out.push(points.slice(i, i + size).join(''));
  return out.length > 0 ? out : [''];
}
