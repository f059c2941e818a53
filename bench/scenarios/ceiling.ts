import type { Harness } from '../lib/harness.js';
import { sharedNow } from '../lib/protocol.js';
import type { RunRecord } from '../lib/records.js';
import { summarize } from '../lib/samples.js';
import type { ServerProcess } from '../lib/server-process.js';

/** Sizes of the ceiling scenario. */
export interface CeilingPlan {
  readonly sockets: number;
  /** Events per run with one frame per write, and with `batch` frames per write. */
  readonly singleEvents: number;
  readonly batchedEvents: number;
  readonly batch: number;
  readonly runs: number;
}

/** What the ceiling server says about one firing. */
interface FireResult {
  deliveries: number;
  writes: number;
  writeMs: number;
  cpuMs: number;
}

/**
 * The bare `node:net` server on the same number of sockets: one pre-serialized frame per
 * write, then `batch` frames per write. Deliveries per second end to end (until the clients
 * have every frame), the server's own write rate, and CPU per delivery from /proc.
 */
export async function measureCeiling(harness: Harness, plan: CeilingPlan): Promise<RunRecord[]> {
  const server = await harness.startServer('ceiling');
  const records: RunRecord[] = [];

  try {
    const opened = await harness.openStreams(server, [''], new Int32Array(plan.sockets));
    if (opened.failed > 0) throw new Error(`${opened.failed} sockets failed: ${opened.firstError}`);
    await fireAndCheck(harness, server, 1, plan.batch);

    const modes = [
      { scenario: 'ceiling-single', frames: 1, events: plan.singleEvents },
      { scenario: 'ceiling-batched', frames: plan.batch, events: plan.batchedEvents },
    ];
    for (const mode of modes) {
      for (let run = 1; run <= plan.runs; run += 1) {
        const metrics = await fireAndCheck(harness, server, mode.frames, mode.events);
        records.push({ scenario: mode.scenario, server: 'ceiling', run, metrics, notes: [] });
      }
    }
  } finally {
    await harness.closeStreams().catch(() => undefined);
    // Let the server see the closes, or its shutdown drains streams that are already gone.
    await harness.settle(1_000);
    await server.stop();
  }

  return records;
}

async function fireAndCheck(
  harness: Harness,
  server: ServerProcess,
  frames: number,
  events: number,
): Promise<Record<string, number>> {
  const seq = harness.reserveSeq(events);
  const cpuBefore = server.cpu();
  const clientCpuBefore = harness.clientCpu();
  const startedAt = sharedNow();
  const query = `frames=${frames}&count=${events}&seq=${seq}`;
  const url = `http://127.0.0.1:${server.controlPort}/fire?${query}`;
  const answer = await fetch(url, { method: 'POST', signal: AbortSignal.timeout(60_000) });
  const fired = (await answer.json()) as FireResult;

  const keys = Float64Array.from({ length: events }, (_, index) => seq + index);
  const checks = await harness.check(new Int32Array(events), keys);
  const cpuSeconds = server.cpu() - cpuBefore;
  const delivered = checks.reduce((total, check) => total + check.delivered, 0);
  const lastReceivedAt = Math.max(...checks.map((check) => check.lastReceivedAt));
  const latency = summarize(
    checks.map((check) => check.latencies),
    Math.max(...checks.map((check) => check.latencyMax)),
  );

  return {
    framesPerWrite: frames,
    delivered,
    deliveriesPerSecond: delivered / ((lastReceivedAt - startedAt) / 1000),
    writeRatePerSecond: fired.deliveries / (fired.writeMs / 1000),
    p99Ms: latency.p99,
    lost: checks.reduce((total, check) => total + check.lost, 0),
    duplicated: checks.reduce((total, check) => total + check.duplicated + check.unexpected, 0),
    cpuSeconds,
    cpuPerDeliveryUs: (cpuSeconds / Math.max(1, delivered)) * 1e6,
    clientCpuSeconds: harness.clientCpu() - clientCpuBefore,
    selfReportedCpuPerDeliveryUs: (fired.cpuMs * 1000) / Math.max(1, fired.deliveries),
  };
}
