/**
 * A load-tool process that posts events to `/emit` on keep-alive connections, either as fast
 * as the answers come (closed loop, C in flight) or on a fixed schedule. Each event carries
 * its sequence number and its send time, so receivers can measure emit-to-receive latency.
 */
import { HttpConnection } from './http-connection.js';
import type { EmitCommand, EmitReport } from './protocol.js';
import { sharedNow } from './protocol.js';
import { serveCommands } from './serve-commands.js';

/** Accumulates the answers of one phase. */
class EmitLedger {
  readonly userIndexes: Int32Array;
  readonly keys: Float64Array;
  accepted = 0;
  rejected = 0;
  notified = 0;
  maxLagMs = 0;
  firstError: string | undefined;

  constructor(size: number) {
    this.userIndexes = new Int32Array(size);
    this.keys = new Float64Array(size);
  }

  record(command: EmitCommand, index: number, status: number, body: string): void {
    if (status < 200 || status > 299) {
      this.rejected += 1;
      this.firstError ??= `status ${status}: ${body.slice(0, 200)}`;
      return;
    }

    const answer = JSON.parse(body) as { eventId?: string; connectionsNotified?: number };
    this.notified += answer.connectionsNotified ?? 0;
    this.userIndexes[this.accepted] = command.targets[index] ?? -1;
    this.keys[this.accepted] =
      command.keyBy === 'id' ? Number(answer.eventId) : seqOf(command, index);
    this.accepted += 1;
  }

  fail(error: unknown): void {
    this.rejected += 1;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }
}

function seqOf(command: EmitCommand, index: number): number {
  return command.seqStart + index;
}

function requestText(command: EmitCommand, index: number): string {
  const body = JSON.stringify({
    userId: command.userIds[command.targets[index] ?? 0],
    eventType: command.eventType,
    data: { seq: seqOf(command, index), sentAt: sharedNow() },
  });

  return (
    `POST ${command.path} HTTP/1.1\r\nHost: 127.0.0.1:${command.port}\r\n` +
    `Authorization: Bearer ${command.serviceToken}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

async function send(
  connection: HttpConnection,
  command: EmitCommand,
  index: number,
  ledger: EmitLedger,
) {
  try {
    const answer = await connection.request(requestText(command, index));
    ledger.record(command, index, answer.status, answer.body);
  } catch (error) {
    ledger.fail(error);
  }
}

// Closed loop: each connection sends its next emit as soon as the last one is answered.
async function closedLoop(command: EmitCommand, pool: HttpConnection[], ledger: EmitLedger) {
  const total = command.targets.length;
  let next = 0;
  const deadline = Date.now() + command.timeoutMs;

  await Promise.all(
    pool.map(async (connection) => {
      while (next < total && Date.now() < deadline) {
        const index = next;
        next += 1;
        await send(connection, command, index, ledger);
      }
    }),
  );
}

// Fixed rate: emit i is due at start + i / rate; a free connection takes the oldest due emit.
async function fixedRate(command: EmitCommand, pool: HttpConnection[], ledger: EmitLedger) {
  const total = command.targets.length;
  const rate = command.ratePerSecond ?? 1;
  const start = performance.now();
  const free = [...pool];
  let next = 0;
  let done = 0;

  await new Promise<void>((resolve) => {
    const dispatch = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
      while (next < due && free.length > 0) {
        const connection = free.pop() as HttpConnection;
        const index = next;
        next += 1;
        const lag = performance.now() - (start + (index * 1000) / rate);
        ledger.maxLagMs = Math.max(ledger.maxLagMs, lag);
        void send(connection, command, index, ledger).then(() => {
          free.push(connection);
          done += 1;
          if (done === total) finish();
          else dispatch();
        });
      }
    };
    const finish = () => {
      clearInterval(ticker);
      clearTimeout(timer);
      resolve();
    };
    const ticker = setInterval(dispatch, 1);
    const timer = setTimeout(finish, command.timeoutMs);
    dispatch();
  });
}

async function emit(command: EmitCommand): Promise<EmitReport> {
  const pool = await Promise.all(
    Array.from({ length: command.concurrency }, () => HttpConnection.open(command.port)),
  );
  const ledger = new EmitLedger(command.targets.length);
  const startedAt = sharedNow();
  const closeAll = () => {
    for (const connection of pool) connection.close();
  };
  // Closing the connections fails whatever is still in flight, so the phase always ends.
  const timer = setTimeout(closeAll, command.timeoutMs);

  try {
    if (command.ratePerSecond === undefined) await closedLoop(command, pool, ledger);
    else await fixedRate(command, pool, ledger);
  } finally {
    clearTimeout(timer);
    closeAll();
  }

  const finishedAt = sharedNow();
  return {
    kind: 'emitted',
    accepted: ledger.accepted,
    rejected: ledger.rejected,
    firstError: ledger.firstError,
    startedAt,
    finishedAt,
    userIndexes: ledger.userIndexes.slice(0, ledger.accepted),
    keys: ledger.keys.slice(0, ledger.accepted),
    notified: ledger.notified,
    maxLagMs: ledger.maxLagMs,
  };
}

serveCommands(async (command) => {
  const emitCommand = command as EmitCommand;
  if (emitCommand.kind !== 'emit') throw new Error('the emitter only emits');

  return emit(emitCommand);
});
