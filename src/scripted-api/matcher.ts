import type { RequestView } from './request-view.js';
import type { Rule, RuleMatch, Scenario, TextMatcher } from './types.js';

export interface PickedRule {
  rule: Rule;
  index: number;
}

/**
 * The scenario's rules plus how often each has fired. Rules are tried in order; a rule whose `times` is used up is
 * skipped, which is how "fail the first request, answer the retry" is written.
 */
export class RuleBook {
  private readonly fired: number[];

  constructor(readonly scenario: Scenario) {
    this.fired = scenario.rules.map(() => 0);
  }

  /** The first rule that matches and still has uses left; counts the use. */
  pick(view: RequestView): PickedRule | undefined {
    const index = this.scenario.rules.findIndex((rule, i) => this.hasUsesLeft(rule, i) && ruleMatches(rule.match, view));
    const rule = this.scenario.rules[index];
    if (rule === undefined) return undefined;
    this.fired[index] = (this.fired[index] ?? 0) + 1;
    return { rule, index };
  }

  /** How many times each rule has fired, in rule order. */
  firedCounts(): readonly number[] {
    return [...this.fired];
  }

  private hasUsesLeft(rule: Rule, index: number): boolean {
    return rule.times === undefined || (this.fired[index] ?? 0) < rule.times;
  }
}

/** Every criterion present must hold. Side requests only ever match rules written for them (`side: true`). */
export function ruleMatches(match: RuleMatch, view: RequestView): boolean {
  if (match.side !== view.side) return false;
  if (match.turn !== undefined && match.turn !== view.turn) return false;
  if (match.toolOffered !== undefined && !view.toolNames.includes(match.toolOffered)) return false;
  return (
    textMatches(match.lastUser, view.lastUserText) &&
    textMatches(match.conversation, view.conversationText) &&
    textMatches(match.system, view.systemText) &&
    textMatches(match.model, view.model)
  );
}

function textMatches(matcher: TextMatcher | undefined, text: string): boolean {
  if (matcher === undefined) return true;
  if ('substring' in matcher) return text.includes(matcher.substring);
  // A `g` or `y` flag makes test() resume from lastIndex; every request must be judged on its own.
  matcher.regex.lastIndex = 0;
  return matcher.regex.test(text);
}
