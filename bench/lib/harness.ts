import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds } from './proc.js';
import type { CheckReport, EmitReport, KeySource, StreamTarget } from './protocol.js';
import { summarize, type LatencySummary } from './samples.js';
import { ServerProcess, type ServerKind } from './server-process.js';
import type { StallProbe } from './stall-probe.js';
import type { Worker } from './workers.js';

/** Secrets the servers are started with; the load tool signs and sends them. */
export interface Secrets {
  readonly jwtSecret: string;
  readonly serviceToken: string;
}

/** How streams opened. */
export interface OpenOutcome {
  opened: number;
  failed: number;
  firstError: string | undefined;
  seconds: number;
}

/** One emit phase, checked end to end. */
export interface PhaseOutcome {
  accepted: number;
  rejected: number;
  firstError: string | undefined;
  emitSeconds: number;
  notified: number;
  expected: number;
  delivered: number;
  lost: number;
  duplicated: number;
  unexpected: number;
  closedEarly: number;
  /** From the first send to the last frame received. */
  deliverySeconds: number;
  latency: LatencySummary;
  cpuSeconds: number;
  /** CPU the client workers used meanwhile: high figures mean the load tool was the limit. */
  clientCpuSeconds: number;
  maxLagMs: number;
  /** The longest the machine itself stood still during the phase (stall-probe.mjs). */
  machineStallMs: number;
}

/** What every emit phase is told about the server and the users. */
export interface EmitPlan {
  readonly userIds: readonly string[];
  readonly targets: Int32Array;
  readonly concurrency: number;
  readonly ratePerSecond?: number;
  readonly timeoutMs: number;
}

const STREAM_PATH = '/api/events/stream';
const MEMORY_PROBE = fileURLToPath(new URL('../memory-probe.mjs', import.meta.url));
const EMIT_PATH = '/api/events/emit';

/**
 * What scenarios share: the worker processes, the secrets, a fresh source address for each
 * batch of sockets (so closed sockets in TIME_WAIT never block a port), and unique sequence
 * numbers across phases.
 */
export class Harness {
  readonly clients: Worker[];
  readonly emitter: Worker;
  readonly secrets: Secrets;
  readonly workDir: string;
  readonly stalls: StallProbe;
  #addresses = 0;
  #seq = 1;
  #logs = 0;

  constructor(
    clients: Worker[],
    emitter: Worker,
    secrets: Secrets,
    workDir: string,
    stalls: StallProbe,
  ) {
    this.clients = clients;
    this.emitter = emitter;
    this.secrets = secrets;
    this.workDir = workDir;
    this.stalls = stalls;
  }

  /** Starts a server of a kind, configured as the benchmark runs it. */
  startServer(kind: ServerKind): Promise<ServerProcess> {
    this.#logs += 1;
    const logFile = join(this.workDir, `${kind}-${this.#logs}.log`);

    const probeFile = join(this.workDir, `${kind}-${this.#logs}.memory.json`);
    // The probe reads the heap on request; it does nothing until asked.
    const nodeOptions = ['--expose-gc', '--import', MEMORY_PROBE];
    // BENCH_PROFILE=1 writes a CPU profile of every server when it stops.
    if (process.env.BENCH_PROFILE) {
      nodeOptions.push('--cpu-prof', `--cpu-prof-dir=${join(this.workDir, 'profiles')}`);
    }
    const env = { ...this.#environment(kind), BENCH_MEMORY_PROBE_FILE: probeFile };

    return ServerProcess.start(kind, env, logFile, nodeOptions);
  }

  /** Opens streams, spread over the client workers; stream i belongs to `streamUsers[i]`. */
  async openStreams(
    server: ServerProcess,
    userIds: readonly string[],
    streamUsers: Int32Array,
    timeoutMs = 60_000,
  ): Promise<OpenOutcome> {
    const target = this.#target(server);
    const shares = split(streamUsers, this.clients.length);
    const reports = await Promise.all(
      this.clients.map((client, index) =>
        client.call(
          {
            kind: 'open',
            target,
            userIds,
            streamUsers: shares[index] ?? new Int32Array(0),
            localAddress: this.#nextAddress(),
            concurrency: 64,
            timeoutMs,
          },
          'opened',
          timeoutMs + 10_000,
        ),
      ),
    );

    const startedAt = Math.min(...reports.map((report) => report.startedAt));
    const finishedAt = Math.max(...reports.map((report) => report.finishedAt));
    return {
      opened: sum(reports.map((report) => report.opened)),
      failed: sum(reports.map((report) => report.failed)),
      firstError: reports.find((report) => report.firstError)?.firstError,
      seconds: (finishedAt - startedAt) / 1000,
    };
  }

  /** Closes every stream the workers hold. */
  async closeStreams(): Promise<void> {
    await Promise.all(
      this.clients.map((client) => client.call({ kind: 'close' }, 'closed', 30_000)),
    );
  }

  /** Emits through the emitter worker, then has every client check what arrived. */
  async emitAndCheck(server: ServerProcess, plan: EmitPlan): Promise<PhaseOutcome> {
    const keyBy = keySourceOf(server.kind);
    const seqStart = this.#seq;
    this.#seq += plan.targets.length;
    const cpuBefore = server.cpu();
    const clientCpuBefore = this.clientCpu();

    const emitted = await this.emitter.call(
      {
        kind: 'emit',
        port: server.port,
        path: EMIT_PATH,
        serviceToken: this.secrets.serviceToken,
        userIds: plan.userIds,
        targets: plan.targets,
        eventType: 'bench:tick',
        keyBy,
        seqStart,
        concurrency: plan.concurrency,
        ratePerSecond: plan.ratePerSecond,
        timeoutMs: plan.timeoutMs,
      },
      'emitted',
      plan.timeoutMs + 10_000,
    );
    const checks = await this.check(emitted.userIndexes, emitted.keys);

    const outcome = phaseOutcome(emitted, checks, server.cpu() - cpuBefore);
    const endedAt = emitted.startedAt + outcome.deliverySeconds * 1000;

    return {
      ...outcome,
      clientCpuSeconds: this.clientCpu() - clientCpuBefore,
      machineStallMs: this.stalls.longestBetween(emitted.startedAt, endedAt),
    };
  }

  /** Has every client check its streams against the events emitted; waits for stragglers. */
  check(userIndexes: Int32Array, keys: Float64Array): Promise<CheckReport[]> {
    const command = {
      kind: 'expect' as const,
      userIndexes,
      keys,
      idleMs: 3_000,
      timeoutMs: 60_000,
    };

    return Promise.all(this.clients.map((client) => client.call(command, 'checked', 75_000)));
  }

  /** CPU seconds the client workers have used so far. */
  clientCpu(): number {
    return this.clients.reduce((total, client) => total + cpuSeconds(client.pid), 0);
  }

  /** Reserves `count` sequence numbers and returns the first. */
  reserveSeq(count: number): number {
    const first = this.#seq;
    this.#seq += count;

    return first;
  }

  /** Waits for the server to settle (closes processed, timers run, memory returned). */
  settle(milliseconds: number): Promise<void> {
    return sleep(milliseconds);
  }

  #target(server: ServerProcess): StreamTarget {
    if (server.kind === 'ceiling') return { port: server.port, path: '/', keyBy: 'seq' };

    return {
      port: server.port,
      path: STREAM_PATH,
      keyBy: keySourceOf(server.kind),
      jwtSecret: this.secrets.jwtSecret,
    };
  }

  // 127.0.0.2 onwards; 127.0.0.1 stays for the emitter and the server itself.
  #nextAddress(): string {
    const n = this.#addresses;
    this.#addresses += 1;

    return `127.0.${Math.floor(n / 250)}.${2 + (n % 250)}`;
  }

  #environment(kind: ServerKind): Record<string, string> {
    const common = {
      PORT: '0',
      JWT_SECRET: this.secrets.jwtSecret,
      SERVICE_TOKEN: this.secrets.serviceToken,
    };
    if (kind !== 'pulse') return common;

    return {
      ...common,
      HOST: '127.0.0.1',
      DATABASE_URL: `sqlite:${join(this.workDir, 'pulse.db')}`,
      DATA_DIR: this.workDir,
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      MAX_STREAMS_PER_USER: '0',
      MAX_CONNECTIONS: '0',
      EMIT_RATE_LIMIT: '0',
      EMIT_RATE_LIMIT_PER_USER: '0',
    };
  }
}

/** Pulse's events are keyed by their SSE id; the others' by the sequence number in data. */
export function keySourceOf(kind: ServerKind): KeySource {
  return kind === 'pulse' ? 'id' : 'seq';
}

function phaseOutcome(
  emitted: EmitReport,
  checks: CheckReport[],
  cpu: number,
): Omit<PhaseOutcome, 'clientCpuSeconds' | 'machineStallMs'> {
  const lastReceivedAt = Math.max(...checks.map((check) => check.lastReceivedAt));
  const latencyMax = Math.max(...checks.map((check) => check.latencyMax));

  return {
    accepted: emitted.accepted,
    rejected: emitted.rejected,
    firstError: emitted.firstError,
    emitSeconds: (emitted.finishedAt - emitted.startedAt) / 1000,
    notified: emitted.notified,
    expected: sum(checks.map((check) => check.expected)),
    delivered: sum(checks.map((check) => check.delivered)),
    lost: sum(checks.map((check) => check.lost)),
    duplicated: sum(checks.map((check) => check.duplicated)),
    unexpected: sum(checks.map((check) => check.unexpected)),
    closedEarly: sum(checks.map((check) => check.closedEarly)),
    deliverySeconds: (Math.max(lastReceivedAt, emitted.finishedAt) - emitted.startedAt) / 1000,
    latency: summarize(
      checks.map((check) => check.latencies),
      latencyMax,
    ),
    cpuSeconds: cpu,
    maxLagMs: emitted.maxLagMs,
  };
}

// Contiguous shares, so the streams of one user sit mostly in one worker.
function split(values: Int32Array, parts: number): Int32Array[] {
  const size = Math.ceil(values.length / parts);

  return Array.from({ length: parts }, (_, index) =>
    values.slice(index * size, Math.min(values.length, (index + 1) * size)),
  );
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
