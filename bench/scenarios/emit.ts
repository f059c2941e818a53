import autocannon from 'autocannon';
import type { Harness } from '../lib/harness.js';
import { seededRandom, type RunRecord } from '../lib/records.js';
import type { ServerKind } from '../lib/server-process.js';

/** Sizes of the emit scenario. */
export interface EmitPlan {
  readonly seconds: number;
  readonly connections: number;
  readonly users: number;
  readonly runs: number;
}

/**
 * `/emit` with no stream open anywhere: requests per second and latency, from autocannon on
 * keep-alive connections. Targets are drawn from a pool of users so per-user work is spread.
 */
export async function measureEmit(
  harness: Harness,
  kind: ServerKind,
  userIds: readonly string[],
  plan: EmitPlan,
): Promise<RunRecord[]> {
  const server = await harness.startServer(kind);
  const users = userIds.slice(0, plan.users);
  const records: RunRecord[] = [];

  try {
    await blast(harness.secrets.serviceToken, server.port, users, { ...plan, seconds: 1 }, 0);
    for (let run = 1; run <= plan.runs; run += 1) {
      const cpuBefore = server.cpu();
      const result = await blast(harness.secrets.serviceToken, server.port, users, plan, run);
      const cpuSeconds = server.cpu() - cpuBefore;
      const answered = result.requests.total;
      records.push({
        scenario: 'emit',
        server: kind,
        run,
        metrics: {
          requestsPerSecond: answered / plan.seconds,
          p50Ms: result.latency.p50,
          p99Ms: result.latency.p99,
          maxMs: result.latency.max,
          non2xx: result.non2xx,
          errors: result.errors,
          cpuSeconds,
          cpuPerRequestUs: (cpuSeconds / Math.max(1, answered)) * 1e6,
        },
        notes: result.non2xx + result.errors > 0 ? ['some emits failed'] : [],
      });
    }
  } finally {
    await server.stop();
  }

  return records;
}

function blast(
  serviceToken: string,
  port: number,
  users: readonly string[],
  plan: EmitPlan,
  seed: number,
): Promise<autocannon.Result> {
  const random = seededRandom(1_000 + seed);
  let seq = 0;

  return autocannon({
    url: `http://127.0.0.1:${port}/api/events/emit`,
    method: 'POST',
    connections: plan.connections,
    duration: plan.seconds,
    timeout: 10,
    headers: {
      authorization: `Bearer ${serviceToken}`,
      'content-type': 'application/json',
    },
    requests: [
      {
        setupRequest: (request) => {
          seq += 1;
          const userId = users[Math.floor(random() * users.length)];
          const data = { seq, sentAt: Date.now() };
          return { ...request, body: JSON.stringify({ userId, eventType: 'bench:tick', data }) };
        },
      },
    ],
  });
}
