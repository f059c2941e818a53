import type pg from 'pg';

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
import type { PostgresHealthDatabase } from './postgres-health-database.js';

const UPSERT_DAY = upsertDaySql((position) => `$${position}`);
const SELECT_DAY = `${selectDaysSql('$1')} AND date = $2`;
const INSERT_OUTBOX =
  'INSERT INTO event_outbox (user_id, type, data, queued_at) VALUES ($1, $2, $3, $4) RETURNING seq';

/** Queues one event in the outbox inside the caller's transaction; returns its seq. */
export async function queueEvent(
  client: pg.PoolClient,
  userId: string,
  event: QueuedEvent,
  now: number,
): Promise<number> {
  const { rows } = await client.query<{ seq: string }>(INSERT_OUTBOX, [
    userId,
    event.type,
    JSON.stringify(event.data),
    now,
  ]);

  return Number(rows[0]?.seq);
}

/**
 * Daily metrics in PostgreSQL. Each write runs in one transaction holding its user's advisory
 * lock, so concurrent writes of one user (from any instance) apply one after the other and
 * their outbox rows are numbered in commit order.
 */
export class PostgresMetricsStore implements MetricsStore {
  readonly #database: PostgresHealthDatabase;

  constructor(database: PostgresHealthDatabase) {
    this.#database = database;
  }

  writeDays(userId: string, write: DayWrite): Promise<DayWriteResult> {
    return this.#database.forUser(userId, async (client) => {
      const now = Date.now();
      const goalsRows = await client.query<GoalsRow>(`${SELECT_GOALS_SQL} WHERE user_id = $1`, [
        userId,
      ]);
      const goals = toGoals(goalsRows.rows[0]);

      const changes = [];
      for (const patch of write.patches) {
        const { rows } = await client.query<DayRow>(SELECT_DAY, [userId, patch.date]);
        const change = planDayChange(rows[0] && toStoredDay(rows[0]), patch, goals);
        if (isEffective(change)) await client.query(UPSERT_DAY, dayParameters(userId, change, now));
        changes.push(change);
      }
      const queued = [];
      for (const event of write.events(changes.filter(isEffective))) {
        queued.push(await queueEvent(client, userId, event, now));
      }

      return { changes, queued };
    });
  }

  async readDays(userId: string, range: DateRange): Promise<DailyMetrics[]> {
    const { rows } = await this.#database.pool.query<DayRow>(
      `${selectDaysSql('$1')} AND date BETWEEN $2 AND $3 ORDER BY date`,
      [userId, range.from, range.to],
    );

    return rows.map(toDailyMetrics);
  }

  async readLatestDays(userId: string, to: string, count: number): Promise<DailyMetrics[]> {
    const { rows } = await this.#database.pool.query<DayRow>(
      `${selectDaysSql('$1')} AND date <= $2 ORDER BY date DESC LIMIT $3`,
      [userId, to, count],
    );

    return rows.reverse().map(toDailyMetrics);
  }

  deleteDay(userId: string, date: string, event: QueuedEvent): Promise<DayDeleteResult> {
    return this.#database.forUser(userId, async (client) => {
      const deleted = await client.query(
        'DELETE FROM metric_days WHERE user_id = $1 AND date = $2',
        [userId, date],
      );
      if ((deleted.rowCount ?? 0) === 0) return { deleted: false, queued: [] };

      return { deleted: true, queued: [await queueEvent(client, userId, event, Date.now())] };
    });
  }

  async usersWithDays(): Promise<string[]> {
    const { rows } = await this.#database.pool.query<{ user_id: string }>(
      'SELECT DISTINCT user_id FROM metric_days ORDER BY 1',
    );

    return rows.map((row) => row.user_id);
  }
}
