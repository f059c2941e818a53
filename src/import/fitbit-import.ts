import type { DayChange, DayPatch } from '../health/day-changes.js';
import type { QueuedEvent } from '../health/health-events.js';
import {
  checkValue,
  METRIC_RULES,
  type GoalName,
  type MetricName,
  type MetricPatch,
} from '../health/metric-fields.js';
import { FITBIT_FILES, type DailyRecord, type FitbitData } from '../replay/fitbit-data.js';
import type { MetricsStore } from '../store/health-store.js';
import { heartRateDays } from './heart-rate-days.js';

/** A row (or a day's values from one file) left out of an import, and why. */
export interface ImportRefusal {
  file: string;
  /** The CSV line, when the row could be read that far. */
  line?: number;
  reason: string;
}

/** What an import will write for one participant. */
export interface ParticipantPlan {
  participantId: string;
  patches: DayPatch[];
  /** Data rows that went into the patches (activity, sleep and heart-rate rows). */
  rowsTaken: number;
  refused: ImportRefusal[];
}

/** The summary an import reports, and sends as `googlefit:synced`. */
export interface ImportSummary {
  source: 'fitbit';
  participantId: string;
  rows: { taken: number; refused: number };
  days: { created: number; updated: number; unchanged: number };
  /** The first and last date imported; null when no day was. */
  from: string | null;
  to: string | null;
  /** How many days reached each goal for the first time. */
  goalsReached: Partial<Record<GoalName, number>>;
  /** The first MAX_LISTED_REFUSALS refusals; `rows.refused` counts them all. */
  refused: ImportRefusal[];
}

/** Refusals listed by name in a summary; more are only counted. */
export const MAX_LISTED_REFUSALS = 20;

const ACTIVITY_METRICS = ['steps', 'distance', 'calories', 'activeMinutes'] as const;

/**
 * Groups a loaded Fitbit data set by participant as day patches, checking each value against
 * the metric rules. A day's values from one file stand or fall together: a step count out of
 * range refuses that day's activity row, not its sleep.
 */
export function planFitbitImport(data: FitbitData): Map<string, ParticipantPlan> {
  const plans = new Map<string, ParticipantPlan>();
  const planOf = (participantId: string): ParticipantPlan => {
    let plan = plans.get(participantId);
    if (!plan) {
      plan = { participantId, patches: [], rowsTaken: 0, refused: [] };
      plans.set(participantId, plan);
    }
    return plan;
  };
  const patchOf = (plan: ParticipantPlan, date: string): MetricPatch => {
    let patch = plan.patches.find((candidate) => candidate.date === date);
    if (!patch) {
      patch = { date, values: {} };
      plan.patches.push(patch);
    }
    return patch.values;
  };

  for (const record of data.daily) {
    const plan = planOf(record.participantId);
    takeDay(plan, record, patchOf);
  }
  for (const day of heartRateDays(data.heartRate)) {
    const plan = planOf(day.participantId);
    const values = { heartRateAverage: day.average, heartRateResting: day.resting };
    const refusal = firstProblem(values);
    if (refusal) {
      plan.refused.push({ file: FITBIT_FILES.heartRate, reason: `${day.date}: ${refusal}` });
      continue;
    }
    Object.assign(patchOf(plan, day.date), values);
    plan.rowsTaken += day.samples;
  }
  for (const plan of plans.values()) plan.patches.sort((a, b) => (a.date < b.date ? -1 : 1));

  return plans;
}

function takeDay(
  plan: ParticipantPlan,
  record: DailyRecord,
  patchOf: (plan: ParticipantPlan, date: string) => MetricPatch,
): void {
  if (record.steps !== null) {
    const values = Object.fromEntries(ACTIVITY_METRICS.map((name) => [name, record[name]]));
    const refusal = firstProblem(values);
    if (refusal) {
      plan.refused.push({ file: FITBIT_FILES.dailyActivity, reason: `${record.date}: ${refusal}` });
    } else {
      Object.assign(patchOf(plan, record.date), values);
      plan.rowsTaken += 1;
    }
  }
  if (record.sleepMinutes !== null) {
    const refusal = firstProblem({ sleepMinutes: record.sleepMinutes });
    if (refusal) {
      plan.refused.push({ file: FITBIT_FILES.sleepDay, reason: `${record.date}: ${refusal}` });
    } else {
      patchOf(plan, record.date).sleepMinutes = record.sleepMinutes;
      plan.rowsTaken += 1;
    }
  }
}

function firstProblem(values: Record<string, number | null>): string | undefined {
  for (const [name, value] of Object.entries(values)) {
    if (value === null) continue;
    const problem = checkValue(name, value, METRIC_RULES[name as MetricName]);
    if (problem) return problem;
  }

  return undefined;
}

/**
 * Writes one participant's days into a user's account in one transaction, with one
 * `googlefit:synced` event carrying the summary when anything changed. Importing the same data
 * again changes nothing and queues nothing. `otherRefusals` are rows refused before they
 * could be told apart by participant; they are reported with this import.
 */
export async function importParticipant(
  metrics: MetricsStore,
  userId: string,
  plan: ParticipantPlan,
  otherRefusals: readonly ImportRefusal[] = [],
): Promise<{ summary: ImportSummary; queued: number[] }> {
  const refused = [...otherRefusals, ...plan.refused];
  let summary = summarize(plan, refused, []);

  const result = await metrics.writeDays(userId, {
    patches: plan.patches,
    events: (changes): QueuedEvent[] => {
      summary = summarize(plan, refused, changes);
      return changes.length === 0 ? [] : [{ type: 'googlefit:synced', data: { ...summary } }];
    },
  });

  return { summary, queued: result.queued };
}

function summarize(
  plan: ParticipantPlan,
  refused: readonly ImportRefusal[],
  changes: readonly DayChange[],
): ImportSummary {
  const created = changes.filter((change) => change.created).length;
  const goalsReached: Partial<Record<GoalName, number>> = {};
  for (const goal of changes.flatMap((change) => change.newlyReached)) {
    goalsReached[goal] = (goalsReached[goal] ?? 0) + 1;
  }

  return {
    source: 'fitbit',
    participantId: plan.participantId,
    rows: { taken: plan.rowsTaken, refused: refused.length },
    days: {
      created,
      updated: changes.length - created,
      unchanged: plan.patches.length - changes.length,
    },
    from: plan.patches[0]?.date ?? null,
    to: plan.patches.at(-1)?.date ?? null,
    goalsReached,
    refused: refused.slice(0, MAX_LISTED_REFUSALS),
  };
}
