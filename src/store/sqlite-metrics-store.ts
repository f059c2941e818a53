import type Database from 'better-sqlite3';

import { isEffective, planDayChange } from '../health/day-changes.js';
import type { QueuedEvent } from '../health/health-events.js';
import type { DailyMetrics } from '../health/metric-fields.js';
import {
  dayParameters,
  selectDaysSql,
  SELECT_GOALS_SQL,
  toDailyMetrics,
  toGoals,
  toStoredDay,
  upsertDaySql,
  type DayRow,
  type GoalsRow,
} from './health-columns.js';
import type {
  DateRange,
  DayDeleteResult,
  DayWrite,
  DayWriteResult,
  MetricsStore,
} from './health-store.js';

const INSERT_OUTBOX =
  'INSERT INTO event_outbox (user_id, type, data, queued_at) VALUES (?, ?, ?, ?)';

/** Queues one event in the outbox inside the caller's transaction; returns its seq. */
export function queueEvent(
  database: Database.Database,
  userId: string,
  event: QueuedEvent,
  now: number,
): number {
  const inserted = database
    .prepare(INSERT_OUTBOX)
    .run(userId, event.type, JSON.stringify(event.data), now);

  return Number(inserted.lastInsertRowid);
}

/**
 * Daily metrics in SQLite. better-sqlite3 is synchronous, so a transaction runs start to end
 * without another request's statements slipping in; BEGIN IMMEDIATE takes the write lock at
 * the start, so a second process (`pulse import`) waits its turn instead of failing half-way.
 */
export class SqliteMetricsStore implements MetricsStore {
  readonly #database: Database.Database;
  readonly #selectGoals: Database.Statement<[string], GoalsRow>;
  readonly #selectDay: Database.Statement<[string, string], DayRow>;
  readonly #selectRange: Database.Statement<[string, string, string], DayRow>;
  readonly #selectLatest: Database.Statement<[string, string, number], DayRow>;
  readonly #selectUsers: Database.Statement<[], { user_id: string }>;
  readonly #upsertDay: Database.Statement<unknown[]>;
  readonly #deleteDay: Database.Statement<[string, string]>;
  readonly #writeInTransaction: Database.Transaction<(id: string, w: DayWrite) => DayWriteResult>;
  readonly #deleteInTransaction: Database.Transaction<
    (id: string, date: string, event: QueuedEvent) => DayDeleteResult
  >;

  constructor(database: Database.Database) {
    this.#database = database;
    this.#selectGoals = database.prepare(`${SELECT_GOALS_SQL} WHERE user_id = ?`);
    this.#selectDay = database.prepare(`${selectDaysSql('?')} AND date = ?`);
    this.#selectRange = database.prepare(
      `${selectDaysSql('?')} AND date BETWEEN ? AND ? ORDER BY date`,
    );
    this.#selectLatest = database.prepare(
      `${selectDaysSql('?')} AND date <= ? ORDER BY date DESC LIMIT ?`,
    );
    this.#selectUsers = database.prepare('SELECT DISTINCT user_id FROM metric_days ORDER BY 1');
    this.#upsertDay = database.prepare(upsertDaySql(() => '?'));
    this.#deleteDay = database.prepare('DELETE FROM metric_days WHERE user_id = ? AND date = ?');
    this.#writeInTransaction = database.transaction((userId, write) => this.#apply(userId, write));
    this.#deleteInTransaction = database.transaction((userId, date, event) => {
      if (this.#deleteDay.run(userId, date).changes === 0) return { deleted: false, queued: [] };
      return { deleted: true, queued: [queueEvent(this.#database, userId, event, Date.now())] };
    });
  }

  async writeDays(userId: string, write: DayWrite): Promise<DayWriteResult> {
    return this.#writeInTransaction.immediate(userId, write);
  }

  async readDays(userId: string, range: DateRange): Promise<DailyMetrics[]> {
    return this.#selectRange.all(userId, range.from, range.to).map(toDailyMetrics);
  }

  async readLatestDays(userId: string, to: string, count: number): Promise<DailyMetrics[]> {
    return this.#selectLatest.all(userId, to, count).reverse().map(toDailyMetrics);
  }

  async deleteDay(userId: string, date: string, event: QueuedEvent): Promise<DayDeleteResult> {
    return this.#deleteInTransaction.immediate(userId, date, event);
  }

  async usersWithDays(): Promise<string[]> {
    return this.#selectUsers.all().map((row) => row.user_id);
  }

  #apply(userId: string, write: DayWrite): DayWriteResult {
    const now = Date.now();
    const goals = toGoals(this.#selectGoals.get(userId));

    const changes = write.patches.map((patch) => {
      const row = this.#selectDay.get(userId, patch.date);
      const change = planDayChange(row && toStoredDay(row), patch, goals);
      if (isEffective(change)) this.#upsertDay.run(...dayParameters(userId, change, now));
      return change;
    });
    const events = write.events(changes.filter(isEffective));
    const queued = events.map((event) => queueEvent(this.#database, userId, event, now));

    return { changes, queued };
  }
}
