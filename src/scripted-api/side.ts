import type { RequestView } from './request-view.js';
import type { MessageReply } from './types.js';

/**
 * Cheap answers to the CLI's side requests (see `RequestView.side`) when no `side: true` rule matches, so they never
 * consume the scenario's rules. The auto-mode security classifier asks for `<block>yes|no</block>`; allowing keeps
 * `--permission-mode auto` usable in tests (write a `side: true` rule answering `<block>yes</block>` to test a block).
 */
export function sideReply(view: RequestView): MessageReply {
  const text = /security monitor/i.test(view.systemText) ? '<block>no</block>' : 'ok';
  return { kind: 'message', text, toolUses: [], usage: { input_tokens: 1, output_tokens: 1 } };
}
