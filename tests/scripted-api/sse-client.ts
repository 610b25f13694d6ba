/**
 * A minimal client side of the Messages API stream, written independently of the server's encoder so tests check
 * the wire format rather than the encoder against itself.
 */
export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

export function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const lines = frame.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice('event: '.length) ?? '';
      const data = lines
        .filter((l) => l.startsWith('data: '))
        .map((l) => l.slice('data: '.length))
        .join('\n');
      return { event, data: JSON.parse(data) as Record<string, unknown> };
    });
}

export interface AssembledMessage {
  id: string;
  model: string;
  content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>;
  stop_reason: unknown;
  usage: Record<string, unknown>;
  deltaCount: number;
}

/** Accumulates a stream the way an SDK does: text deltas appended, partial JSON joined and parsed at block stop. */
export function assemble(events: SseEvent[]): AssembledMessage {
  let message: AssembledMessage | undefined;
  const partialJson: string[] = [];
  for (const { event, data } of events) {
    if (event !== data.type) throw new Error(`event name ${event} differs from data.type ${String(data.type)}`);
    if (event === 'message_start') {
      const m = data.message as Record<string, unknown>;
      message = { id: String(m.id), model: String(m.model), content: [], stop_reason: m.stop_reason, usage: { ...(m.usage as object) }, deltaCount: 0 };
      continue;
    }
    if (!message) throw new Error(`${event} before message_start`);
    const index = data.index as number;
    if (event === 'content_block_start') {
      message.content[index] = { ...(data.content_block as object) } as AssembledMessage['content'][number];
      partialJson[index] = '';
    } else if (event === 'content_block_delta') {
      message.deltaCount += 1;
      const delta = data.delta as { type: string; text?: string; partial_json?: string };
      const block = message.content[index]!;
      if (delta.type === 'text_delta') block.text = (block.text ?? '') + delta.text;
      else partialJson[index] += delta.partial_json ?? '';
    } else if (event === 'content_block_stop') {
      const block = message.content[index]!;
      if (block.type === 'tool_use') block.input = JSON.parse(partialJson[index] ?? '{}');
    } else if (event === 'message_delta') {
      message.stop_reason = (data.delta as Record<string, unknown>).stop_reason;
      Object.assign(message.usage, data.usage);
    }
  }
  if (!message) throw new Error('no message_start');
  return message;
}
