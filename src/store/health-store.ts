import type { DayChange, DayPatch, GoalsChange } from '../health/day-changes.js';
import type { QueuedEvent } from '../health/health-events.js';
import type { DailyMetrics, Goals, GoalsPatch } from '../health/metric-fields.js';

/**
 * Where the health side of Pulse keeps its data: daily metrics, goals, the event outbox and
 * the analytics ledger, in the same database as the users. Two implementations (SQLite,
 * PostgreSQL) pass the same suite.
 *
 * Every write that must be announced queues its event in the outbox inside the same database
 * transaction: a write that fails queues nothing, and a write that commits always has its
 * event waiting (see OutboxRelay for how it leaves). Deleting a user deletes all of this.
 */

/** A batch of day changes for one user, written in one transaction. */
export interface DayWrite {
  readonly patches: readonly DayPatch[];
  /**
   * Decides the events to queue from what actually changed (unchanged days are left out).
   * Called inside the transaction, so it must be synchronous and must not throw.
   */
  readonly events: (changes: readonly DayChange[]) => QueuedEvent[];
}

/** What a day write did. */
export interface DayWriteResult {
  /** One per patch, in order; unchanged days included (and not written). */
  readonly changes: DayChange[];
  /** Outbox seqs of the events queued, in order. */
  readonly queued: number[];
}

/** What a goals write did. */
export interface GoalsWriteResult extends GoalsChange {
  /** Outbox seqs of the events queued: none when nothing changed. */
  readonly queued: number[];
}

/** What a day deletion did. */
export interface DayDeleteResult {
  readonly deleted: boolean;
  /** Outbox seqs of the events queued: none when there was no such day. */
  readonly queued: number[];
}

/** An inclusive date range. */
export interface DateRange {
  readonly from: string;
  readonly to: string;
}

/** Daily metrics per user and date. */
export interface MetricsStore {
  /** Applies the patches and queues the chosen events, all or nothing. */
  writeDays(userId: string, write: DayWrite): Promise<DayWriteResult>;
  /** The user's days in the range, oldest first. */
  readDays(userId: string, range: DateRange): Promise<DailyMetrics[]>;
  /** The user's latest `count` days up to `to`, oldest first. */
  readLatestDays(userId: string, to: string, count: number): Promise<DailyMetrics[]>;
  /** Deletes a day and queues `event` with it, when there is one. */
  deleteDay(userId: string, date: string, event: QueuedEvent): Promise<DayDeleteResult>;
  /** Every user with at least one day, for the analytics job. */
  usersWithDays(): Promise<string[]>;
}

/** One user's goals. */
export interface GoalsStore {
  /** The user's goals; all null when none were set. */
  read(userId: string): Promise<Goals>;
  /** Applies a patch and, when something changed, queues `event(change)` with it. */
  write(
    userId: string,
    patch: GoalsPatch,
    event: (change: GoalsChange) => QueuedEvent,
  ): Promise<GoalsWriteResult>;
}

/** An event waiting in the outbox. */
export interface OutboxEntry {
  /** Increasing in commit order per user; the emit's idempotency key is derived from it. */
  readonly seq: number;
  readonly userId: string;
  readonly type: string;
  readonly data: Record<string, unknown>;
  /** Milliseconds since the epoch. */
  readonly queuedAt: number;
}

/** Which pending events to read. */
export interface OutboxQuery {
  /** Only this user's. */
  readonly userId?: string;
  /** Only events queued before this time (ms), so another instance's fresh ones are left. */
  readonly queuedBefore?: number;
  readonly limit: number;
}

/** Events queued by committed writes and not yet emitted. */
export interface EventOutbox {
  /** Pending events, oldest first. */
  pending(query: OutboxQuery): Promise<OutboxEntry[]>;
  /** Forgets events once they are emitted. */
  remove(seqs: readonly number[]): Promise<void>;
}

/** What the analytics job last sent, per user and metric, so a re-run sends only news. */
export interface AnalyticsLedger {
  /** Digests of the items last sent to a user, by metric. */
  sent(userId: string): Promise<Map<string, string>>;
  /** Records the digests of items just sent. */
  record(userId: string, digests: ReadonlyMap<string, string>): Promise<void>;
}

/** The health stores of one database. */
export interface HealthStores {
  readonly metrics: MetricsStore;
  readonly goals: GoalsStore;
  readonly outbox: EventOutbox;
  readonly ledger: AnalyticsLedger;
  /** Releases the connection or pool. */
  close(): Promise<void>;
}
