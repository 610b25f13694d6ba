import { MILESTONE_ID_PATTERN, type MilestoneId } from './types.js';

export function isMilestoneId(text: string): boolean {
  return MILESTONE_ID_PATTERN.test(text);
}

export function stageOf(id: MilestoneId): number {
  return Number(id.charAt(0));
}

/** Stage first, then letter: the order milestones are listed and run in. */
export function compareIds(a: MilestoneId, b: MilestoneId): number {
  return stageOf(a) - stageOf(b) || a.charAt(1).localeCompare(b.charAt(1));
}

/**
 * The id someone most likely meant by a near-miss such as `1a`, `01A`, `milestone-1A`, `Milestone 2c`,
 * `A1` or `1A - setup`. Undefined when nothing plausible is in there (`12A`, `1AB`, `notes`).
 */
export function guessMilestoneId(text: string): MilestoneId | undefined {
  const stem = text.trim().replace(/^(?:milestone|ms)[\s_-]*/i, '');
  const digitFirst = /^0*([1-9])[\s_-]*([a-z])(?=$|[\s_.-])/i.exec(stem);
  if (digitFirst) return `${digitFirst[1]}${(digitFirst[2] ?? '').toUpperCase()}`;
  const letterFirst = /^([a-z])[\s_-]*0*([1-9])$/i.exec(stem);
  if (letterFirst) return `${letterFirst[2]}${(letterFirst[1] ?? '').toUpperCase()}`;
  return undefined;
}
