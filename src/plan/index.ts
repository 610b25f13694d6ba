export type { Plan, PlanStage, PlanTask } from './types.js';
export { buildPlan, compareIds, DEFAULT_ESTIMATE_MINUTES, type BuildPlanOptions } from './build.js';
export { selectTasks, type SelectionResult, type TaskSelection } from './select.js';
export { formatPlan, type FormatPlanOptions } from './format.js';
export { restrictPlan } from './restrict.js';
export { formatMinutes } from './duration.js';
