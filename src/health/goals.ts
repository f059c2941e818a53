import { GOAL_NAMES, type GoalName, type Goals, type MetricValues } from './metric-fields.js';

/**
 * A weight goal is reached within this many kilograms of the target, on either side: the goal
 * may be to lose or to gain, and a scale reading is never exact.
 */
export const WEIGHT_GOAL_TOLERANCE_KG = 0.5;

/**
 * The goals a day's values meet: steps, sleep and calories (burned) at or above their target,
 * weight within WEIGHT_GOAL_TOLERANCE_KG of it. A goal that is not set, or a metric that was
 * not recorded, is never reached.
 */
export function goalsMet(values: MetricValues, goals: Goals): GoalName[] {
  return GOAL_NAMES.filter((goal) => {
    const target = goals[goal];
    const value = values[goalMetric(goal)];
    if (target === null || value === null) return false;

    return goal === 'weight'
      ? Math.abs(value - target) <= WEIGHT_GOAL_TOLERANCE_KG
      : value >= target;
  });
}

/** The metric a goal is measured on. */
export function goalMetric(goal: GoalName): keyof MetricValues {
  return goal === 'dailySteps' ? 'steps' : goal;
}
