import type { Harness } from '../lib/harness.js';
import { phaseRecord, roundRobinTargets, type RunRecord } from '../lib/records.js';
import type { ServerKind } from '../lib/server-process.js';

/** Sizes of the broadcast scenarios. */
export interface BroadcastPlan {
  /** One user with this many tabs. */
  readonly tabs: number;
  readonly tabEmits: number;
  readonly tabConcurrency: number;
  /** Then emits to that user at a steady rate well below capacity, one at a time. */
  readonly tabPacedEmits: number;
  readonly tabPacedRate: number;
  /** This many users with one tab each. */
  readonly users: number;
  readonly userEmits: number;
  readonly userConcurrency: number;
  readonly runs: number;
}

/**
 * One user with many tabs: every emit goes to all of them, so delivered events per second and
 * CPU per delivery show the cost of the fan-out loop itself. Emitted as fast as the server
 * accepts them, the latency is mostly time spent queued behind earlier emits; emitted at a
 * steady rate below capacity ("paced"), it is the time one fan-out takes to reach every tab.
 * Then many users with one tab each, emits going round the users, for the same server holding
 * the same number of streams.
 */
export async function measureBroadcast(
  harness: Harness,
  kind: ServerKind,
  userIds: readonly string[],
  plan: BroadcastPlan,
): Promise<RunRecord[]> {
  const oneUser = userIds.slice(0, 1);
  const tabs = new Int32Array(plan.tabs);
  const manyUsers = userIds.slice(0, plan.users);
  const oneTabEach = Int32Array.from({ length: plan.users }, (_, index) => index);

  return [
    ...(await measureStreams(harness, kind, 'broadcast-one', oneUser, tabs, {
      targets: new Int32Array(plan.tabEmits),
      concurrency: plan.tabConcurrency,
      runs: plan.runs,
      paced: { emits: plan.tabPacedEmits, ratePerSecond: plan.tabPacedRate },
    })),
    ...(await measureStreams(harness, kind, 'broadcast-many', manyUsers, oneTabEach, {
      targets: roundRobinTargets(plan.userEmits, plan.users),
      concurrency: plan.userConcurrency,
      runs: plan.runs,
    })),
  ];
}

async function measureStreams(
  harness: Harness,
  kind: ServerKind,
  scenario: string,
  userIds: readonly string[],
  streamUsers: Int32Array,
  load: {
    targets: Int32Array;
    concurrency: number;
    runs: number;
    paced?: { emits: number; ratePerSecond: number };
  },
): Promise<RunRecord[]> {
  const server = await harness.startServer(kind);
  const records: RunRecord[] = [];

  try {
    const opened = await harness.openStreams(server, userIds, streamUsers);
    if (opened.failed > 0) throw new Error(`${opened.failed} streams failed: ${opened.firstError}`);

    // One short phase first, so the runs measure warmed-up code.
    const warmUp = load.targets.slice(0, Math.max(1, Math.floor(load.targets.length / 10)));
    await harness.emitAndCheck(server, {
      userIds,
      targets: warmUp,
      concurrency: load.concurrency,
      timeoutMs: 60_000,
    });

    for (let run = 1; run <= load.runs; run += 1) {
      const phase = await harness.emitAndCheck(server, {
        userIds,
        targets: load.targets,
        concurrency: load.concurrency,
        timeoutMs: 60_000,
      });
      records.push(phaseRecord({ scenario, server: kind, run }, phase));
    }

    for (let run = 1; load.paced && run <= load.runs; run += 1) {
      const { emits, ratePerSecond } = load.paced;
      const phase = await harness.emitAndCheck(server, {
        userIds,
        targets: new Int32Array(emits),
        concurrency: 1,
        ratePerSecond,
        timeoutMs: 60_000,
      });
      const where = { scenario: `${scenario}-paced`, server: kind, run };
      records.push(phaseRecord(where, phase, { rate: ratePerSecond }));
    }
  } finally {
    await harness.closeStreams().catch(() => undefined);
    // Let the server see the closes, or its shutdown drains streams that are already gone.
    await harness.settle(1_000);
    await server.stop();
  }

  return records;
}
