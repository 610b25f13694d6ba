/**
 * Request bodies shaped like the ones claude 2.1.330 sends (see the request-view.ts header), for unit tests.
 */
export interface AgentRequestOptions {
  prompt?: string;
  cwd?: string;
  /** Extra messages after the environment message (assistant turns, tool results). */
  after?: unknown[];
  tools?: string[];
  model?: string;
  stream?: boolean;
}

export function agentRequest(opts: AgentRequestOptions = {}): Record<string, unknown> {
  return {
    model: opts.model ?? 'claude-opus-5-5',
    max_tokens: 128000,
    stream: opts.stream ?? true,
    system: [
      { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.330.440; cc_entrypoint=sdk-cli;' },
      { type: 'text', text: "You are a Claude agent, built on Anthropic's Claude Agent SDK." },
    ],
    tools: (opts.tools ?? ['Bash', 'Edit', 'Read', 'Write']).map((name) => ({ name, input_schema: { type: 'object' } })),
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: '<system-reminder>\nAttribution for git commits\n</system-reminder>\n' },
          { type: 'text', text: opts.prompt ?? 'say hi' },
        ],
      },
      {
        role: 'system',
        content: `# Environment\nYou have been invoked in the following environment: \n - Primary working directory: ${opts.cwd ?? '/work/w1'}\n - Is a git repository: false\n`,
      },
      ...(opts.after ?? []),
    ],
  };
}

export function toolTurn(id: string, name: string, input: unknown, result: string): unknown[] {
  return [
    { role: 'assistant', content: [{ type: 'tool_use', id, name, input }] },
    { role: 'user', content: [{ tool_use_id: id, type: 'tool_result', content: result }] },
  ];
}

/** The auto-mode security classifier: non-streaming, no tools. */
export function classifierRequest(): Record<string, unknown> {
  return {
    model: 'claude-sonnet-5',
    max_tokens: 64,
    system: [{ type: 'text', text: 'You are a security monitor for autonomous AI coding agents.' }],
    messages: [{ role: 'user', content: [{ type: 'text', text: '<transcript>\n{"Bash":"git commit"}\n</transcript>' }] }],
  };
}
