import type { Harness } from '../lib/harness.js';
import type { RunRecord } from '../lib/records.js';
import type { MemoryReading, ServerKind, ServerProcess } from '../lib/server-process.js';

async function memoryOf(server: ServerProcess): Promise<MemoryReading> {
  const reading = await server.memory();
  if (!reading) throw new Error(`${server.kind} runs without the memory probe`);

  return reading;
}

function kept(before: number, peak: number, after: number): number {
  return peak > before ? (after - before) / (peak - before) : 0;
}

/** Sizes of the connect scenario. */
export interface ConnectPlan {
  readonly streams: number;
  readonly users: number;
}

const MIB = 1024 * 1024;
const WARM_UP_STREAMS = 200;
// Descriptors a server may open or keep on its own (log files, timers, the database).
const CLOSE_SLACK = 10;
const IDLE_AFTER_CLOSE_MS = 10_000;

/**
 * Opens N streams on a fresh server and measures how fast they open, how much resident memory
 * and live heap each idle stream costs once the server has settled, and how much of it comes
 * back when they close, at once and once the server has been idle. A few streams are opened
 * and closed first, so lazily loaded code is not counted.
 */
export async function measureConnect(
  harness: Harness,
  kind: ServerKind,
  userIds: readonly string[],
  plan: ConnectPlan,
  run: number,
): Promise<RunRecord> {
  const server = await harness.startServer(kind);
  const streamUsers = Int32Array.from({ length: plan.streams }, (_, index) => index % plan.users);
  const notes: string[] = [];

  try {
    await harness.openStreams(server, userIds, streamUsers.slice(0, WARM_UP_STREAMS));
    await harness.closeStreams();
    await harness.settle(1_000);

    // RSS as the kernel sees it, then the probe's figures after a full collection.
    const rssBefore = server.rss();
    const filesBefore = server.openFiles();
    const before = await memoryOf(server);
    const cpuBefore = server.cpu();
    const clientCpuBefore = harness.clientCpu();
    const opened = await harness.openStreams(server, userIds, streamUsers);
    const cpuOpen = server.cpu() - cpuBefore;
    const clientCpuOpen = harness.clientCpu() - clientCpuBefore;
    if (opened.failed > 0) notes.push(`${opened.failed} streams failed: ${opened.firstError}`);
    await harness.settle(2_000);
    const rssWith = server.rss();
    const filesWith = server.openFiles();
    const withStreams = await memoryOf(server);

    // Measure once the server has seen every close, however busy the machine is.
    await harness.closeStreams();
    if (!(await server.waitForOpenFiles(filesBefore + CLOSE_SLACK))) {
      notes.push(`server still held ${server.openFiles() - filesBefore} more descriptors`);
    }
    await harness.settle(2_000);
    const rssAfter = server.rss();
    const after = await memoryOf(server);
    // V8 keeps the young generation it grew under load until it has seen allocation stay low
    // for a while; a second reading, after the server has been idle, shows what comes back.
    await harness.settle(IDLE_AFTER_CLOSE_MS);
    const idle = await memoryOf(server);

    const perStream = (bytes: number) => bytes / Math.max(1, opened.opened) / 1024;
    return {
      scenario: 'connect',
      server: kind,
      run,
      metrics: {
        streams: plan.streams,
        opened: opened.opened,
        failed: opened.failed,
        openSeconds: opened.seconds,
        streamsPerSecond: opened.opened / opened.seconds,
        cpuSecondsOpening: cpuOpen,
        // The load tool's share: when server and clients together fill both CPUs, the rate
        // says as much about the clients as about the server.
        clientCpuSecondsOpening: clientCpuOpen,
        socketsHeld: filesWith - filesBefore,
        rssBeforeMiB: rssBefore / MIB,
        rssWithStreamsMiB: rssWith / MIB,
        rssAfterCloseMiB: rssAfter / MIB,
        rssPerStreamKiB: perStream(rssWith - rssBefore),
        // How much of the growth is still held after every stream closed: 0 is all returned.
        rssKeptFraction: kept(rssBefore, rssWith, rssAfter),
        heapBeforeMiB: before.heapUsed / MIB,
        heapWithStreamsMiB: withStreams.heapUsed / MIB,
        heapAfterCloseMiB: after.heapUsed / MIB,
        heapPerStreamKiB: perStream(withStreams.heapUsed - before.heapUsed),
        heapKeptFraction: kept(before.heapUsed, withStreams.heapUsed, after.heapUsed),
        rssAfterCloseCollectedMiB: after.rss / MIB,
        rssKeptAfterCollectionFraction: kept(rssBefore, rssWith, after.rss),
        rssIdleCollectedMiB: idle.rss / MIB,
        rssKeptWhenIdleFraction: kept(rssBefore, rssWith, idle.rss),
        heapCommittedIdleMiB: idle.heapTotal / MIB,
      },
      notes,
    };
  } finally {
    await harness.closeStreams().catch(() => undefined);
    await server.stop();
  }
}
