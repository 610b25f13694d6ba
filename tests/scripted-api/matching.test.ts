import { describe, expect, it } from 'vitest';
import { RuleBook } from '../../src/scripted-api/matcher.js';
import { viewRequest } from '../../src/scripted-api/request-view.js';
import { parseScenario } from '../../src/scripted-api/scenario.js';
import { agentRequest, classifierRequest, toolTurn } from './requests.js';

describe('viewRequest', () => {
  it('extracts the prompt without system reminders, the turn, the tools and the cwd', () => {
    const view = viewRequest(agentRequest({ prompt: 'fix the bug', cwd: '/tmp/w 1' }));
    expect(view).toMatchObject({ lastUserText: 'fix the bug', turn: 0, cwd: '/tmp/w 1', side: false, stream: true, model: 'claude-opus-5-5' });
    expect(view.toolNames).toEqual(['Bash', 'Edit', 'Read', 'Write']);
    expect(view.systemText).toContain('Claude Agent SDK');
    expect(view.systemText).toContain('Primary working directory');
    expect(view.conversationText).toBe('fix the bug');
  });

  it('sees tool results as the last user text and counts assistant turns', () => {
    const view = viewRequest(agentRequest({ after: toolTurn('toolu_1', 'Write', { file_path: '/a' }, 'File created') }));
    expect(view.turn).toBe(1);
    expect(view.lastUserText).toBe('File created');
    expect(view.conversationText).toBe('say hi\nWrite {"file_path":"/a"}\nFile created');
  });

  it('takes the latest working directory (a resumed session announces a new one)', () => {
    const resumed = agentRequest({
      cwd: '/old',
      after: [{ role: 'system', content: [{ type: 'text', text: ' - Primary working directory: /new/wt' }] }],
    });
    expect(viewRequest(resumed).cwd).toBe('/new/wt');
    expect(viewRequest({ messages: [] }).cwd).toBeUndefined();
  });

  it('calls non-streaming requests without tools side requests', () => {
    expect(viewRequest(classifierRequest()).side).toBe(true);
    // A non-streaming retry of an agent turn still offers tools: not a side request.
    expect(viewRequest(agentRequest({ stream: false })).side).toBe(false);
  });

  it('survives bodies that are not Messages requests', () => {
    expect(viewRequest('nonsense')).toMatchObject({ model: '', turn: 0, lastUserText: '', side: true });
  });
});

describe('RuleBook', () => {
  const book = (rules: unknown) => new RuleBook(parseScenario(rules));

  it('picks the first matching rule and honours every criterion', () => {
    const rules = book([
      { name: 'later-turn', match: { turn: 1 }, reply: 'a' },
      { name: 'structured', match: { tool_offered: 'StructuredOutput' }, reply: 'b' },
      { name: 'sonnet', match: { model: { regex: 'sonnet' } }, reply: 'c' },
      { name: 'system', match: { system: 'Agent SDK', conversation: 'deploy' }, reply: 'd' },
      { name: 'prompt', match: { last_user: { regex: '^please', flags: 'i' } }, reply: 'e' },
    ]);
    const name = (body: unknown) => rules.pick(viewRequest(body))?.rule.name;
    expect(name(agentRequest({ after: toolTurn('t', 'Bash', {}, 'ok') }))).toBe('later-turn');
    expect(name(agentRequest({ tools: ['StructuredOutput'] }))).toBe('structured');
    expect(name(agentRequest({ model: 'claude-sonnet-5-5' }))).toBe('sonnet');
    expect(name(agentRequest({ prompt: 'deploy it' }))).toBe('system');
    expect(name(agentRequest({ prompt: 'Please go' }))).toBe('prompt');
    expect(name(agentRequest({ prompt: 'go please' }))).toBeUndefined();
  });

  it('skips a rule once it has fired `times` times', () => {
    const rules = book([
      { name: 'fail-once', times: 1, reply: { fault: 429 } },
      { name: 'ok', reply: 'fine' },
    ]);
    const view = viewRequest(agentRequest());
    expect([rules.pick(view)?.index, rules.pick(view)?.index, rules.pick(view)?.index]).toEqual([0, 1, 1]);
    expect(rules.firedCounts()).toEqual([1, 2]);
  });

  it('keeps side requests and agent turns apart', () => {
    const rules = book([
      { name: 'any-main', reply: 'main' },
      { name: 'classifier', match: { side: true, system: 'security monitor' }, reply: '<block>yes</block>' },
    ]);
    expect(rules.pick(viewRequest(classifierRequest()))?.rule.name).toBe('classifier');
    expect(rules.pick(viewRequest(agentRequest()))?.rule.name).toBe('any-main');
    expect(book([{ reply: 'main only' }]).pick(viewRequest(classifierRequest()))).toBeUndefined();
  });

  it('judges each request afresh with a global regex', () => {
    const rules = book([{ match: { last_user: { regex: 'go', flags: 'g' } }, reply: 'x' }]);
    const view = viewRequest(agentRequest({ prompt: 'go' }));
    expect([rules.pick(view), rules.pick(view)].map((p) => p?.index)).toEqual([0, 0]);
  });
});
