import type { DayChange, GoalsChange } from './day-changes.js';

/** An event a write queues in the outbox, to be emitted once the write has committed. */
export interface QueuedEvent {
  readonly type: string;
  readonly data: Record<string, unknown>;
}

/**
 * `metrics:updated` for one changed day: the date, every metric (null where none), which ones
 * changed, and the goals the day reached for the first time. Flat like the replay's events, so
 * a front end reads both alike.
 */
export function metricsUpdated(change: DayChange, source: string): QueuedEvent {
  return {
    type: 'metrics:updated',
    data: {
      source,
      date: change.date,
      ...change.values,
      created: change.created,
      changed: change.changed,
      goalsReached: change.newlyReached,
    },
  };
}

/** `metrics:deleted` for one removed day. */
export function metricsDeleted(date: string): QueuedEvent {
  return { type: 'metrics:deleted', data: { date } };
}

/** `goals:updated`: every goal (null where none) and which ones changed. */
export function goalsUpdated(change: GoalsChange): QueuedEvent {
  return { type: 'goals:updated', data: { goals: change.goals, changed: change.changed } };
}
