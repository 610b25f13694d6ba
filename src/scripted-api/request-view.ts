/**
 * The parts of a Messages API request that scenario rules match on, pulled out of the raw JSON body once.
 *
 * Shapes observed from claude 2.1.330: `system` is a list of text blocks; `messages` holds the user prompt (preceded
 * by `<system-reminder>` text blocks), then a `role: "system"` message with the "# Environment" block that names the
 * "Primary working directory", then alternating assistant / user(tool_result) messages.
 */
export interface RequestView {
  model: string;
  stream: boolean;
  maxTokens?: number;
  /** Top-level system prompt plus every `role: "system"` message. */
  systemText: string;
  /** Last `user` message: text blocks and tool_result contents, system reminders removed. */
  lastUserText: string;
  /** All user and assistant messages (tool_use as `Name {json input}`), system reminders removed. */
  conversationText: string;
  /** Assistant messages already in the conversation. */
  turn: number;
  toolNames: string[];
  /** The latest "Primary working directory" the CLI announced (a resumed session announces a new one). */
  cwd?: string;
  /**
   * A side request of the CLI rather than an agent turn: agent turns always stream and offer tools, while the
   * auto-mode security classifier, quota probes and title generation are non-streaming and offer none.
   */
  side: boolean;
}

type Json = Record<string, unknown>;

const REMINDER = /<system-reminder>[\s\S]*?<\/system-reminder>/g;
const CWD = /Primary working directory: *([^\n]+)/g;

export function viewRequest(body: unknown): RequestView {
  const b = isObject(body) ? body : {};
  const messages = Array.isArray(b.messages) ? b.messages.filter(isObject) : [];
  const toolNames = Array.isArray(b.tools) ? b.tools.filter(isObject).map((t) => String(t.name)) : [];
  const stream = b.stream === true;
  const systemText = [contentText(b.system), ...messages.filter((m) => m.role === 'system').map((m) => contentText(m.content))]
    .filter(Boolean)
    .join('\n');
  const dialogue = messages.filter((m) => m.role === 'user' || m.role === 'assistant');
  const lastUser = [...dialogue].reverse().find((m) => m.role === 'user');
  const cwd = lastCwd(systemText + '\n' + dialogue.map((m) => contentText(m.content)).join('\n'));
  return {
    model: typeof b.model === 'string' ? b.model : '',
    stream,
    ...(typeof b.max_tokens === 'number' && { maxTokens: b.max_tokens }),
    systemText,
    lastUserText: lastUser ? withoutReminders(contentText(lastUser.content)) : '',
    conversationText: dialogue.map((m) => withoutReminders(contentText(m.content))).filter(Boolean).join('\n'),
    turn: messages.filter((m) => m.role === 'assistant').length,
    toolNames,
    ...(cwd !== undefined && { cwd }),
    side: !stream && toolNames.length === 0,
  };
}

/** Text of a `content` / `system` value: a string or a list of blocks. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.filter(isObject).map(blockText).filter(Boolean).join('\n');
}

function blockText(block: Json): string {
  switch (block.type) {
    case 'text':
      return typeof block.text === 'string' ? block.text : '';
    case 'tool_result':
      return contentText(block.content);
    case 'tool_use':
      return `${String(block.name)} ${JSON.stringify(block.input ?? {})}`;
    default:
      return '';
  }
}

function withoutReminders(text: string): string {
  return text.replace(REMINDER, '').trim();
}

function lastCwd(text: string): string | undefined {
  let cwd: string | undefined;
  for (const m of text.matchAll(CWD)) cwd = m[1]?.trim();
  return cwd;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
