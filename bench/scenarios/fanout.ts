import type { Harness } from '../lib/harness.js';
import { phaseRecord, randomTargets, type RunRecord } from '../lib/records.js';
import type { ServerKind } from '../lib/server-process.js';

/** Sizes of the fan-out scenario. */
export interface FanoutPlan {
  readonly streams: number;
  readonly emits: number;
  readonly concurrency: number;
  readonly fixedRate: number;
  readonly fixedEmits: number;
  readonly runs: number;
}

const WARM_UP_EMITS = 1_000;

/**
 * One stream for each of N users; E emits to random users at concurrency C (how many emits
 * per second the server accepts and delivers), then emits at a fixed rate (the latency an
 * unsaturated server gives). Each run is checked for lost and duplicated deliveries.
 */
export async function measureFanout(
  harness: Harness,
  kind: ServerKind,
  userIds: readonly string[],
  plan: FanoutPlan,
): Promise<RunRecord[]> {
  const server = await harness.startServer(kind);
  const users = userIds.slice(0, plan.streams);
  const records: RunRecord[] = [];

  try {
    const streamUsers = Int32Array.from({ length: plan.streams }, (_, index) => index);
    const opened = await harness.openStreams(server, users, streamUsers);
    if (opened.failed > 0) throw new Error(`${opened.failed} streams failed: ${opened.firstError}`);

    const warmUp = randomTargets(WARM_UP_EMITS, users.length, 7);
    await harness.emitAndCheck(server, {
      userIds: users,
      targets: warmUp,
      concurrency: 8,
      timeoutMs: 30_000,
    });

    for (let run = 1; run <= plan.runs; run += 1) {
      const targets = randomTargets(plan.emits, users.length, run);
      const phase = await harness.emitAndCheck(server, {
        userIds: users,
        targets,
        concurrency: plan.concurrency,
        timeoutMs: 60_000,
      });
      records.push(phaseRecord({ scenario: 'fanout', server: kind, run }, phase));
    }

    for (let run = 1; run <= plan.runs; run += 1) {
      const targets = randomTargets(plan.fixedEmits, users.length, 100 + run);
      const phase = await harness.emitAndCheck(server, {
        userIds: users,
        targets,
        concurrency: plan.concurrency,
        ratePerSecond: plan.fixedRate,
        timeoutMs: 60_000,
      });
      const extra = { rate: plan.fixedRate, maxLagMs: phase.maxLagMs };
      records.push(phaseRecord({ scenario: 'fanout-fixed', server: kind, run }, phase, extra));
    }
  } finally {
    await harness.closeStreams().catch(() => undefined);
    // Let the server see the closes, or its shutdown drains streams that are already gone.
    await harness.settle(1_000);
    await server.stop();
  }

  return records;
}
