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
import { PostgresHealthDatabase, type PostgresHealthOptions } from './postgres-health-database.js';
import { PostgresMetricsStore, queueEvent } from './postgres-metrics-store.js';

// pg returns BIGINT as strings, since they may exceed 2^53; ours do not.
interface OutboxRow {
  seq: string;
  user_id: string;
  type: string;
  data: string;
  queued_at: string;
}

const UPSERT_GOALS = upsertGoalsSql((position) => `$${position}`);

/** Opens the health stores on one pool to a postgres:// URL. */
export async function openPostgresHealthStores(
  url: string,
  options: PostgresHealthOptions = {},
): Promise<HealthStores> {
  const database = await PostgresHealthDatabase.open(url, options);

  return {
    metrics: new PostgresMetricsStore(database),
    goals: new PostgresGoalsStore(database),
    outbox: new PostgresOutbox(database),
    ledger: new PostgresAnalyticsLedger(database),
    close: () => database.close(),
  };
}

/** Goals in PostgreSQL; a change and its event commit together under the user's lock. */
class PostgresGoalsStore implements GoalsStore {
  readonly #database: PostgresHealthDatabase;

  constructor(database: PostgresHealthDatabase) {
    this.#database = database;
  }

  async read(userId: string): Promise<Goals> {
    const { rows } = await this.#database.pool.query<GoalsRow>(
      `${SELECT_GOALS_SQL} WHERE user_id = $1`,
      [userId],
    );

    return toGoals(rows[0]);
  }

  write(
    userId: string,
    patch: GoalsPatch,
    event: (change: GoalsChange) => QueuedEvent,
  ): Promise<GoalsWriteResult> {
    return this.#database.forUser(userId, async (client) => {
      const now = Date.now();
      const { rows } = await client.query<GoalsRow>(`${SELECT_GOALS_SQL} WHERE user_id = $1`, [
        userId,
      ]);
      const change = planGoalsChange(toGoals(rows[0]), patch);
      if (change.changed.length === 0) return { ...change, queued: [] };

      await client.query(UPSERT_GOALS, goalsParameters(userId, change.goals, now));
      return { ...change, queued: [await queueEvent(client, userId, event(change), now)] };
    });
  }
}

/** The event outbox in PostgreSQL. */
class PostgresOutbox implements EventOutbox {
  readonly #database: PostgresHealthDatabase;

  constructor(database: PostgresHealthDatabase) {
    this.#database = database;
  }

  async pending(query: OutboxQuery): Promise<OutboxEntry[]> {
    const { rows } = await this.#database.pool.query<OutboxRow>(
      `SELECT seq, user_id, type, data, queued_at FROM event_outbox
       WHERE queued_at < $1 AND ($2::text IS NULL OR user_id = $2) ORDER BY seq LIMIT $3`,
      [query.queuedBefore ?? Number.MAX_SAFE_INTEGER, query.userId ?? null, query.limit],
    );

    return rows.map((row) => ({
      seq: Number(row.seq),
      userId: row.user_id,
      type: row.type,
      data: JSON.parse(row.data) as Record<string, unknown>,
      queuedAt: Number(row.queued_at),
    }));
  }

  async remove(seqs: readonly number[]): Promise<void> {
    if (seqs.length === 0) return;

    await this.#database.pool.query('DELETE FROM event_outbox WHERE seq = ANY($1::bigint[])', [
      seqs,
    ]);
  }
}

/** The analytics ledger in PostgreSQL. */
class PostgresAnalyticsLedger implements AnalyticsLedger {
  readonly #database: PostgresHealthDatabase;

  constructor(database: PostgresHealthDatabase) {
    this.#database = database;
  }

  async sent(userId: string): Promise<Map<string, string>> {
    const { rows } = await this.#database.pool.query<{ metric: string; digest: string }>(
      'SELECT metric, digest FROM analytics_sent WHERE user_id = $1',
      [userId],
    );

    return new Map(rows.map((row) => [row.metric, row.digest]));
  }

  async record(userId: string, digests: ReadonlyMap<string, string>): Promise<void> {
    if (digests.size === 0) return;

    await this.#database.pool.query(
      `INSERT INTO analytics_sent (user_id, metric, digest, sent_at)
       SELECT $1, metric, digest, $4 FROM unnest($2::text[], $3::text[]) AS sent (metric, digest)
       ON CONFLICT (user_id, metric) DO UPDATE SET digest = excluded.digest,
       sent_at = excluded.sent_at`,
      [userId, [...digests.keys()], [...digests.values()], Date.now()],
    );
  }
}
