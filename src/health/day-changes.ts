import { goalsMet } from './goals.js';
import {
  emptyMetricValues,
  GOAL_NAMES,
  METRIC_NAMES,
  type GoalName,
  type Goals,
  type GoalsPatch,
  type MetricName,
  type MetricPatch,
  type MetricValues,
} from './metric-fields.js';

/**
 * The pure part of every write: given what is stored and what is asked, what the new state
 * is, what changed and which goals were reached for the first time. The stores call these
 * inside their transactions, so SQLite and PostgreSQL decide alike.
 */

/** A day as a store holds it, with the goals it has already announced. */
export interface StoredDay {
  readonly date: string;
  readonly values: MetricValues;
  /** Goals this day has reached at some point; each is announced once. */
  readonly goalsReached: readonly GoalName[];
}

/** A request to change one day. */
export interface DayPatch {
  readonly date: string;
  readonly values: MetricPatch;
}

/** The outcome of applying a patch to a day. */
export interface DayChange {
  readonly date: string;
  /** The day did not exist before. */
  readonly created: boolean;
  /** Metrics whose value changed (for a new day: those given a number). */
  readonly changed: readonly MetricName[];
  readonly values: MetricValues;
  /** Goals this change made the day reach for the first time: the ones to announce. */
  readonly newlyReached: readonly GoalName[];
  /** Every goal the day has reached so far, to store. */
  readonly goalsReached: readonly GoalName[];
}

/** Tells whether a change needs writing: a new day, or a value that differs. */
export function isEffective(change: DayChange): boolean {
  return change.created || change.changed.length > 0;
}

/** Applies a patch to a stored day (or to nothing) under the user's current goals. */
export function planDayChange(
  existing: StoredDay | undefined,
  patch: DayPatch,
  goals: Goals,
): DayChange {
  const before = existing?.values ?? emptyMetricValues();
  const values = { ...before };
  for (const name of METRIC_NAMES) {
    const given = patch.values[name];
    if (given !== undefined) values[name] = given;
  }

  const changed = METRIC_NAMES.filter((name) => values[name] !== before[name]);
  const already = existing?.goalsReached ?? [];
  const newlyReached = goalsMet(values, goals).filter((goal) => !already.includes(goal));
  const goalsReached = GOAL_NAMES.filter(
    (goal) => already.includes(goal) || newlyReached.includes(goal),
  );

  return { date: patch.date, created: !existing, changed, values, newlyReached, goalsReached };
}

/** The outcome of changing goals. */
export interface GoalsChange {
  readonly goals: Goals;
  /** Goals whose target changed. */
  readonly changed: readonly GoalName[];
}

/** Applies a goals patch to the stored goals. */
export function planGoalsChange(existing: Goals, patch: GoalsPatch): GoalsChange {
  const goals = { ...existing };
  for (const name of GOAL_NAMES) {
    const given = patch[name];
    if (given !== undefined) goals[name] = given;
  }

  return { goals, changed: GOAL_NAMES.filter((name) => goals[name] !== existing[name]) };
}
