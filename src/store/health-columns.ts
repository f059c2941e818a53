import type { StoredDay } from '../health/day-changes.js';
import {
  GOAL_NAMES,
  METRIC_NAMES,
  type DailyMetrics,
  type GoalName,
  type Goals,
  type MetricName,
  type MetricValues,
} from '../health/metric-fields.js';

/**
 * The SQL both health store implementations share: column names, row conversions and the
 * statements whose text differs only in how parameters are written (`?` or `$1`).
 */

/** The column of each metric in `metric_days`. */
export const METRIC_COLUMNS: Readonly<Record<MetricName, string>> = {
  steps: 'steps',
  distance: 'distance',
  calories: 'calories',
  activeMinutes: 'active_minutes',
  sleepMinutes: 'sleep_minutes',
  weight: 'weight',
  heartRateResting: 'heart_rate_resting',
  heartRateAverage: 'heart_rate_average',
};

/** The column of each goal in `goals`. */
export const GOAL_COLUMNS: Readonly<Record<GoalName, string>> = {
  dailySteps: 'daily_steps',
  sleepMinutes: 'sleep_minutes',
  calories: 'calories',
  weight: 'weight',
};

/** A `metric_days` row as both drivers return it. */
export type DayRow = { date: string; goals_reached: string } & Record<string, unknown>;

/** A `goals` row. */
export type GoalsRow = Record<string, unknown>;

const DAY_COLUMN_LIST = ['date', ...Object.values(METRIC_COLUMNS), 'goals_reached'].join(', ');

/** Builds a statement's text with the driver's parameter style (1-based positions). */
export type Placeholder = (position: number) => string;

/** Selects days by user, then by a condition on the date written after it. */
export function selectDaysSql(condition: string): string {
  return `SELECT ${DAY_COLUMN_LIST} FROM metric_days WHERE user_id = ${condition}`;
}

/** Inserts or replaces one day: user, date, the metrics in order, goals reached, time. */
export function upsertDaySql(param: Placeholder): string {
  const columns = ['user_id', 'date', ...Object.values(METRIC_COLUMNS), 'goals_reached'];
  const values = [...columns, 'updated_at'].map((_, index) => param(index + 1));
  const updates = [...columns.slice(2), 'updated_at'].map(
    (column) => `${column} = excluded.${column}`,
  );

  return `INSERT INTO metric_days (${columns.join(', ')}, updated_at) VALUES (${values.join(', ')})
    ON CONFLICT (user_id, date) DO UPDATE SET ${updates.join(', ')}`;
}

/** Inserts or replaces a user's goals: user, the goals in order, time. */
export function upsertGoalsSql(param: Placeholder): string {
  const columns = ['user_id', ...Object.values(GOAL_COLUMNS), 'updated_at'];
  const values = columns.map((_, index) => param(index + 1));
  const updates = columns.slice(1).map((column) => `${column} = excluded.${column}`);

  return `INSERT INTO goals (${columns.join(', ')}) VALUES (${values.join(', ')})
    ON CONFLICT (user_id) DO UPDATE SET ${updates.join(', ')}`;
}

/** Selects a user's goals. */
export const SELECT_GOALS_SQL = `SELECT ${Object.values(GOAL_COLUMNS).join(', ')} FROM goals`;

/** The parameters of upsertDaySql, in order. */
export function dayParameters(userId: string, day: StoredDay, now: number): unknown[] {
  const metrics = METRIC_NAMES.map((name) => day.values[name]);

  return [userId, day.date, ...metrics, day.goalsReached.join(','), now];
}

/** The parameters of upsertGoalsSql, in order. */
export function goalsParameters(userId: string, goals: Goals, now: number): unknown[] {
  return [userId, ...GOAL_NAMES.map((name) => goals[name]), now];
}

/** A row as a stored day. */
export function toStoredDay(row: DayRow): StoredDay {
  const reached = row.goals_reached === '' ? [] : row.goals_reached.split(',');

  return {
    date: row.date,
    values: valuesOf(row),
    goalsReached: GOAL_NAMES.filter((goal) => reached.includes(goal)),
  };
}

/** A row as the day a client sees. */
export function toDailyMetrics(row: DayRow): DailyMetrics {
  return { date: row.date, ...valuesOf(row) };
}

/** A row (or its absence) as goals. */
export function toGoals(row: GoalsRow | undefined): Goals {
  const entries = GOAL_NAMES.map((name) => [name, numberOrNull(row?.[GOAL_COLUMNS[name]])]);

  return Object.fromEntries(entries) as Goals;
}

function valuesOf(row: DayRow): MetricValues {
  const entries = METRIC_NAMES.map((name) => [name, numberOrNull(row[METRIC_COLUMNS[name]])]);

  return Object.fromEntries(entries) as MetricValues;
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
