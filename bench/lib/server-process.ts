import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { track } from './children.js';
import { cpuSeconds, openFiles, residentBytes } from './proc.js';

/** The servers a run compares. */
export type ServerKind = 'pulse' | 'naive' | 'floor' | 'ceiling';

const ENTRY_POINTS: Record<ServerKind, string[]> = {
  pulse: ['dist/cli/main.js', 'serve'],
  naive: ['--import', 'tsx', 'bench/naive-server.ts'],
  floor: ['--import', 'tsx', 'bench/floor-server.ts'],
  ceiling: ['--import', 'tsx', 'bench/ceiling-server.ts'],
};

/** What the memory probe (bench/memory-probe.mjs) reports, after a full collection. */
export interface MemoryReading {
  readonly rss: number;
  readonly heapUsed: number;
  /** Heap memory V8 holds, used or not. */
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** The JSON line a server logs when it is ready. */
interface ReadyLine {
  msg: string;
  url: string;
  controlUrl?: string;
}

/**
 * A server under test, in its own process, with its output in a log file (a pipe could fill
 * and stall it, and Pulse logs every stream it opens). Memory and CPU are read from /proc.
 */
export class ServerProcess {
  readonly kind: ServerKind;
  readonly pid: number;
  readonly port: number;
  readonly controlPort: number | undefined;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #probeFile: string | undefined;
  #probeReads = 0;

  private constructor(
    kind: ServerKind,
    child: ChildProcess,
    ready: ReadyLine,
    logFile: string,
    probeFile: string | undefined,
  ) {
    this.kind = kind;
    this.#probeFile = probeFile;
    this.#child = child;
    this.pid = child.pid ?? -1;
    this.port = Number(new URL(ready.url).port);
    this.controlPort = ready.controlUrl ? Number(new URL(ready.controlUrl).port) : undefined;
    this.logFile = logFile;
  }

  /** Starts a server from the repository root and waits for its ready line. */
  static async start(
    kind: ServerKind,
    env: Record<string, string>,
    logFile: string,
    nodeOptions: readonly string[] = [],
    timeoutMs = 20_000,
  ): Promise<ServerProcess> {
    const output = openSync(logFile, 'w');
    const child = track(
      spawn(process.execPath, [...nodeOptions, ...ENTRY_POINTS[kind]], {
        env: { ...process.env, ...env },
        stdio: ['ignore', output, output],
      }),
    );
    closeSync(output);

    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const ready = readyLine(logFile);
      if (ready) {
        return new ServerProcess(kind, child, ready, logFile, env.BENCH_MEMORY_PROBE_FILE);
      }
      if (child.exitCode !== null) break;
      await sleep(50);
    }

    if (child.pid !== undefined && child.exitCode === null) child.kill('SIGKILL');
    throw new Error(`${kind} did not start:\n${logTail(logFile)}`);
  }

  /** Resident memory now, in bytes. */
  rss(): number {
    return residentBytes(this.pid);
  }

  /** CPU seconds used so far. */
  cpu(): number {
    return cpuSeconds(this.pid);
  }

  /** Open file descriptors now. */
  openFiles(): number {
    return openFiles(this.pid);
  }

  /**
   * Waits until the server holds at most `count` descriptors, that is until it has seen the
   * clients close; tells whether it got there in time.
   */
  async waitForOpenFiles(count: number, timeoutMs = 20_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.openFiles() <= count) return true;
      await sleep(50);
    }

    return false;
  }

  /** Has the server collect garbage and report its memory; undefined without the probe. */
  async memory(timeoutMs = 10_000): Promise<MemoryReading | undefined> {
    const file = this.#probeFile;
    if (file === undefined) return undefined;

    process.kill(this.pid, 'SIGUSR2');
    this.#probeReads += 1;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      await sleep(20);
      const reading = readProbe(file);
      if (reading && reading.reads >= this.#probeReads) return reading;
    }

    throw new Error(`${this.kind} did not report its memory within ${timeoutMs} ms`);
  }

  /** Tells whether the process is still running. */
  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Asks the server to stop, and kills it if it has not within a few seconds. */
  async stop(): Promise<void> {
    if (!this.running) return;

    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    const startedAt = Date.now();
    process.kill(this.pid, 'SIGTERM');
    // A profiled server writes its profile only if it exits by itself: give it time.
    const patience = process.env.BENCH_PROFILE ? 15_000 : 3_000;
    const stopped = await Promise.race([
      exited.then(() => true),
      sleep(patience).then(() => false),
    ]);
    if (!stopped && this.running) process.kill(this.pid, 'SIGKILL');
    if (process.env.BENCH_DEBUG) {
      process.stderr.write(
        `bench: ${this.kind} stopped in ${Date.now() - startedAt} ms (${stopped})\n`,
      );
    }
  }
}

function readyLine(logFile: string): ReadyLine | undefined {
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('listening"')) continue;
    try {
      const parsed = JSON.parse(line) as Partial<ReadyLine>;
      if (typeof parsed.url === 'string' && typeof parsed.msg === 'string') {
        return parsed as ReadyLine;
      }
    } catch {
      // A partly written line: read it again on the next poll.
    }
  }

  return undefined;
}

function readProbe(file: string): (MemoryReading & { reads: number }) | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as MemoryReading & { reads: number };
  } catch {
    // Not written yet, or caught halfway through a write.
    return undefined;
  }
}

/** The last lines of a log, for error messages. */
export function logTail(logFile: string, lines = 20): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
