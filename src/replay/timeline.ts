import type { FitbitData } from './fitbit-data.js';
import type { ReplayMode } from './replay.js';

const DAY_MS = 86_400_000;

/** One event to send, placed on the data set's clock. */
export interface TimelineEvent {
  /** Data set time in UTC milliseconds; a daily summary sits at the end of its day. */
  at: number;
  participantId: string;
  eventType: 'metrics:updated' | 'heartrate:recorded';
  data: Record<string, unknown>;
  /** The date of a daily summary; absent on heart-rate samples. */
  day?: string;
}

/** Orders the selected events by data set time; daily summaries close their day. */
export function buildTimeline(
  data: FitbitData,
  mode: ReplayMode,
  participants?: string[],
): TimelineEvent[] {
  const events: TimelineEvent[] = [];

  for (const { participantId, date, ...metrics } of mode === 'heartrate' ? [] : data.daily) {
    const at = Date.parse(`${date}T00:00:00Z`) + DAY_MS;
    const eventData = { source: 'fitbit', participantId, date, ...metrics };
    events.push({ at, participantId, eventType: 'metrics:updated', data: eventData, day: date });
  }
  for (const { participantId, time, bpm } of mode === 'daily' ? [] : data.heartRate) {
    // The data set's times are the wearer's wall-clock time with no zone: say so by leaving
    // the offset out rather than claiming UTC.
    const wallClock = new Date(time).toISOString().slice(0, 19);
    const eventData = { source: 'fitbit', participantId, time: wallClock, bpm };
    events.push({ at: time, participantId, eventType: 'heartrate:recorded', data: eventData });
  }

  // At the same instant a finished day goes before the next day's first sample; the sort is
  // stable, so equal events keep the loader's participant order.
  const rank = (event: TimelineEvent): number => (event.day === undefined ? 1 : 0);
  const wanted = new Set(participants ?? events.map((event) => event.participantId));

  return events
    .filter((event) => wanted.has(event.participantId))
    .sort((a, b) => a.at - b.at || rank(a) - rank(b));
}
