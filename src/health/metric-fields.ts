/**
 * The daily metrics a user keeps and the goals they set, with the bounds each value must
 * respect. Both the HTTP schemas and the importers read these rules, so a value the API would
 * refuse is refused by an import too.
 */

/** The metrics of one day, in the order they are shown and stored. */
export const METRIC_NAMES = [
  'steps',
  'distance',
  'calories',
  'activeMinutes',
  'sleepMinutes',
  'weight',
  'heartRateResting',
  'heartRateAverage',
] as const;

/** One of the daily metrics. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** The goals a user may set. */
export const GOAL_NAMES = ['dailySteps', 'sleepMinutes', 'calories', 'weight'] as const;

/** One of the goals. */
export type GoalName = (typeof GOAL_NAMES)[number];

/** What a value may be: a whole number or not, and its inclusive range. */
export interface ValueRule {
  readonly integer: boolean;
  readonly minimum: number;
  readonly maximum: number;
  /** For people reading an error message or a chart axis. */
  readonly unit: string;
}

/** The bounds of each metric; wide enough for any real person, narrow enough to catch typos. */
export const METRIC_RULES: Readonly<Record<MetricName, ValueRule>> = {
  steps: { integer: true, minimum: 0, maximum: 200_000, unit: 'steps' },
  distance: { integer: false, minimum: 0, maximum: 500, unit: 'km' },
  calories: { integer: true, minimum: 0, maximum: 50_000, unit: 'kcal' },
  activeMinutes: { integer: true, minimum: 0, maximum: 1440, unit: 'min' },
  sleepMinutes: { integer: true, minimum: 0, maximum: 1440, unit: 'min' },
  weight: { integer: false, minimum: 1, maximum: 700, unit: 'kg' },
  heartRateResting: { integer: false, minimum: 20, maximum: 250, unit: 'bpm' },
  heartRateAverage: { integer: false, minimum: 20, maximum: 250, unit: 'bpm' },
};

/** The bounds of each goal; a goal of 0 would be reached by every day, so none starts at 0. */
export const GOAL_RULES: Readonly<Record<GoalName, ValueRule>> = {
  dailySteps: { integer: true, minimum: 1, maximum: 200_000, unit: 'steps' },
  sleepMinutes: { integer: true, minimum: 1, maximum: 1440, unit: 'min' },
  calories: { integer: true, minimum: 1, maximum: 50_000, unit: 'kcal' },
  weight: { integer: false, minimum: 1, maximum: 700, unit: 'kg' },
};

/** Every metric of a day; null where nothing was recorded. */
export type MetricValues = Record<MetricName, number | null>;

/** Some metrics of a day: a given number sets one, null clears one, a missing key keeps it. */
export type MetricPatch = Partial<MetricValues>;

/** A user's goals; null where none is set. */
export type Goals = Record<GoalName, number | null>;

/** A goals change: as for metrics, null clears a goal and a missing key keeps it. */
export type GoalsPatch = Partial<Goals>;

/** One day of one user's metrics. */
export interface DailyMetrics extends MetricValues {
  /** The calendar date, `YYYY-MM-DD`. */
  readonly date: string;
}

/** A day with nothing recorded. */
export function emptyMetricValues(): MetricValues {
  return Object.fromEntries(METRIC_NAMES.map((name) => [name, null])) as MetricValues;
}

/** A user with no goals. */
export function emptyGoals(): Goals {
  return Object.fromEntries(GOAL_NAMES.map((name) => [name, null])) as Goals;
}

/** Tells whether a value respects a rule; the reason when it does not. */
export function checkValue(name: string, value: number, rule: ValueRule): string | undefined {
  if (!Number.isFinite(value)) return `${name} must be a number`;
  if (rule.integer && !Number.isInteger(value)) return `${name} must be a whole number`;
  if (value < rule.minimum || value > rule.maximum) {
    return `${name} must be between ${rule.minimum} and ${rule.maximum} ${rule.unit}`;
  }

  return undefined;
}

/** The JSON schema of one value under a rule: a number in range, or null to clear it. */
export function valueSchema(rule: ValueRule): Record<string, unknown> {
  return {
    type: [rule.integer ? 'integer' : 'number', 'null'],
    minimum: rule.minimum,
    maximum: rule.maximum,
    description: `${rule.unit}; null clears it`,
  };
}
