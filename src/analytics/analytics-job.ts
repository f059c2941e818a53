import { createHash } from 'node:crypto';

import type { PulseEmitter } from '../emitter/index.js';
import { addDays, END_OF_TIME } from '../health/calendar.js';
import type { AnalyticsLedger, MetricsStore } from '../store/health-store.js';
import { analyseDays, DAYS_NEEDED, type AnalyticsItem } from './metric-analytics.js';

/** What a run needs: the data, what was sent before, and an emitter to send with. */
export interface AnalyticsJobOptions {
  metrics: MetricsStore;
  ledger: AnalyticsLedger;
  emitter: Pick<PulseEmitter, 'emit' | 'emitAnalytics'>;
  /** Only these users; default every user with at least one day. */
  userIds?: string[];
  /** Stops the run before its next user. */
  signal?: AbortSignal;
}

/** The outcome of a run. */
export interface AnalyticsRunSummary {
  users: number;
  itemsComputed: number;
  /** Items that differed from what was last sent, and went out. */
  itemsSent: number;
  eventsSent: number;
  usersFailed: number;
  /** The first few failure messages. */
  firstErrors: string[];
}

const MAX_REPORTED_ERRORS = 5;

/**
 * Computes every user's analytics (see metric-analytics.ts) and sends the items that differ
 * from what the ledger says was last sent: one `analytics:update` for a single item, else
 * `analytics:batch_update` events of at most 50. Each send carries an idempotency key derived
 * from its content, so a run that dies between sending and recording is not sent twice by the
 * next run while Pulse's history holds the first; the ledger makes a re-run with no new data
 * send nothing at all. A user whose send fails is left for the next run.
 */
export async function runAnalytics(options: AnalyticsJobOptions): Promise<AnalyticsRunSummary> {
  const userIds = options.userIds ?? (await options.metrics.usersWithDays());
  const summary: AnalyticsRunSummary = {
    users: userIds.length,
    itemsComputed: 0,
    itemsSent: 0,
    eventsSent: 0,
    usersFailed: 0,
    firstErrors: [],
  };

  for (const userId of userIds) {
    if (options.signal?.aborted) break;
    try {
      const items = await analyseUser(options.metrics, userId);
      summary.itemsComputed += items.length;
      const sent = await sendNews(options, userId, items);
      summary.itemsSent += sent.items;
      summary.eventsSent += sent.events;
    } catch (error) {
      summary.usersFailed += 1;
      if (summary.firstErrors.length < MAX_REPORTED_ERRORS) {
        summary.firstErrors.push(`${userId}: ${error instanceof Error ? error.message : error}`);
      }
    }
  }

  return summary;
}

/** A user's analytics as of their latest day. */
export async function analyseUser(metrics: MetricsStore, userId: string): Promise<AnalyticsItem[]> {
  const [latest] = await metrics.readLatestDays(userId, END_OF_TIME, 1);
  if (!latest) return [];

  const from = addDays(latest.date, -(DAYS_NEEDED - 1));
  const days = await metrics.readDays(userId, { from, to: latest.date });

  return analyseDays(days, latest.date);
}

/** A digest of an item's content: equal digests mean nothing new to send. */
export function itemDigest(item: AnalyticsItem): string {
  return createHash('sha256').update(JSON.stringify(item)).digest('hex');
}

async function sendNews(
  options: AnalyticsJobOptions,
  userId: string,
  items: AnalyticsItem[],
): Promise<{ items: number; events: number }> {
  const sentBefore = await options.ledger.sent(userId);
  const fresh = items
    .map((item) => ({ item, digest: itemDigest(item) }))
    .filter(({ item, digest }) => sentBefore.get(item.metric) !== digest);
  if (fresh.length === 0) return { items: 0, events: 0 };

  const eventId = contentKey(
    userId,
    fresh.map(({ digest }) => digest),
  );
  const news = fresh.map(({ item }) => item);
  const events =
    news.length === 1
      ? [await options.emitter.emit(userId, 'analytics:update', { ...news[0] }, { eventId })]
      : await options.emitter.emitAnalytics(userId, news, { eventId });
  await options.ledger.record(
    userId,
    new Map(fresh.map(({ item, digest }) => [item.metric, digest])),
  );

  return { items: news.length, events: events.length };
}

function contentKey(userId: string, digests: string[]): string {
  const hash = createHash('sha256').update(userId).update(digests.join(',')).digest('hex');

  return `analytics-${hash.slice(0, 40)}`;
}
