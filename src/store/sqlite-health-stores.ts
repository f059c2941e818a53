import type Database from 'better-sqlite3';

import { planGoalsChange, type GoalsChange } from '../health/day-changes.js';
import type { QueuedEvent } from '../health/health-events.js';
import type { Goals, GoalsPatch } from '../health/metric-fields.js';
import {
  goalsParameters,
  SELECT_GOALS_SQL,
  toGoals,
  upsertGoalsSql,
  type GoalsRow,
} from './health-columns.js';
import type {
  AnalyticsLedger,
  EventOutbox,
  GoalsStore,
  GoalsWriteResult,
  HealthStores,
  OutboxEntry,
  OutboxQuery,
} from './health-store.js';
import { openSqliteHealthDatabase } from './sqlite-health-schema.js';
import { queueEvent, SqliteMetricsStore } from './sqlite-metrics-store.js';

interface OutboxRow {
  seq: number;
  user_id: string;
  type: string;
  data: string;
  queued_at: number;
}

/** Opens the health stores on one SQLite connection to the file `filename`. */
export function openSqliteHealthStores(filename: string): HealthStores {
  const database = openSqliteHealthDatabase(filename);

  return {
    metrics: new SqliteMetricsStore(database),
    goals: new SqliteGoalsStore(database),
    outbox: new SqliteOutbox(database),
    ledger: new SqliteAnalyticsLedger(database),
    async close() {
      if (database.open) database.close();
    },
  };
}

/** Goals in SQLite; a change and its event commit together. */
class SqliteGoalsStore implements GoalsStore {
  readonly #select: Database.Statement<[string], GoalsRow>;
  readonly #write: Database.Transaction<
    (
      userId: string,
      patch: GoalsPatch,
      event: (change: GoalsChange) => QueuedEvent,
    ) => GoalsWriteResult
  >;

  constructor(database: Database.Database) {
    this.#select = database.prepare(`${SELECT_GOALS_SQL} WHERE user_id = ?`);
    const upsert = database.prepare(upsertGoalsSql(() => '?'));
    this.#write = database.transaction((userId, patch, event) => {
      const now = Date.now();
      const change = planGoalsChange(toGoals(this.#select.get(userId)), patch);
      if (change.changed.length === 0) return { ...change, queued: [] };

      upsert.run(...goalsParameters(userId, change.goals, now));
      return { ...change, queued: [queueEvent(database, userId, event(change), now)] };
    });
  }

  async read(userId: string): Promise<Goals> {
    return toGoals(this.#select.get(userId));
  }

  async write(
    userId: string,
    patch: GoalsPatch,
    event: (change: GoalsChange) => QueuedEvent,
  ): Promise<GoalsWriteResult> {
    return this.#write.immediate(userId, patch, event);
  }
}

/** The event outbox in SQLite. */
class SqliteOutbox implements EventOutbox {
  readonly #database: Database.Database;

  constructor(database: Database.Database) {
    this.#database = database;
  }

  async pending(query: OutboxQuery): Promise<OutboxEntry[]> {
    const conditions = ['queued_at < ?'];
    const parameters: unknown[] = [query.queuedBefore ?? Number.MAX_SAFE_INTEGER];
    if (query.userId !== undefined) {
      conditions.push('user_id = ?');
      parameters.push(query.userId);
    }
    const rows = this.#database
      .prepare<unknown[], OutboxRow>(
        `SELECT seq, user_id, type, data, queued_at FROM event_outbox
         WHERE ${conditions.join(' AND ')} ORDER BY seq LIMIT ?`,
      )
      .all(...parameters, query.limit);

    return rows.map((row) => ({
      seq: row.seq,
      userId: row.user_id,
      type: row.type,
      data: JSON.parse(row.data) as Record<string, unknown>,
      queuedAt: row.queued_at,
    }));
  }

  async remove(seqs: readonly number[]): Promise<void> {
    const remove = this.#database.prepare('DELETE FROM event_outbox WHERE seq = ?');
    this.#database.transaction(() => seqs.forEach((seq) => remove.run(seq)))();
  }
}

/** The analytics ledger in SQLite. */
class SqliteAnalyticsLedger implements AnalyticsLedger {
  readonly #database: Database.Database;

  constructor(database: Database.Database) {
    this.#database = database;
  }

  async sent(userId: string): Promise<Map<string, string>> {
    const rows = this.#database
      .prepare<[string], { metric: string; digest: string }>(
        'SELECT metric, digest FROM analytics_sent WHERE user_id = ?',
      )
      .all(userId);

    return new Map(rows.map((row) => [row.metric, row.digest]));
  }

  async record(userId: string, digests: ReadonlyMap<string, string>): Promise<void> {
    const upsert = this.#database.prepare(
      `INSERT INTO analytics_sent (user_id, metric, digest, sent_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, metric) DO UPDATE SET digest = excluded.digest,
       sent_at = excluded.sent_at`,
    );
    const now = Date.now();
    this.#database.transaction(() => {
      for (const [metric, digest] of digests) upsert.run(userId, metric, digest, now);
    })();
  }
}
