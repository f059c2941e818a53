/**
 * A load-tool process that holds a share of the streams. The coordinator forks several, so no
 * process holds more sockets than its file limit allows, and drives them over IPC.
 */
import { SignJWT } from 'jose';
import { checkDeliveries } from './delivery-check.js';
import type {
  CheckReport,
  ClosedReport,
  Envelope,
  ExpectCommand,
  OpenCommand,
  OpenReport,
  Report,
} from './protocol.js';
import { sharedNow } from './protocol.js';
import { LatencySamples } from './samples.js';
import { serveCommands } from './serve-commands.js';
import { StreamSocket, type StreamListener } from './stream-socket.js';

// Enough for exact percentiles in every scenario the coordinator runs; beyond it, a sample.
const SAMPLE_CAPACITY = 400_000;

let streams: StreamSocket[] = [];
let received = 0;
let lastReceivedAt = 0;
let closedEarly = 0;
const latencies = new LatencySamples(SAMPLE_CAPACITY);

const counting: Pick<StreamListener, 'received' | 'closedEarly'> = {
  received(stream, key, sentAt) {
    stream.keys.push(key);
    received += 1;
    lastReceivedAt = sharedNow();
    if (!Number.isNaN(sentAt)) latencies.add(lastReceivedAt - sentAt);
  },
  closedEarly() {
    closedEarly += 1;
  },
};

async function signTokens(command: OpenCommand): Promise<Map<number, string>> {
  const tokens = new Map<number, string>();
  const secret = command.target.jwtSecret;
  if (secret === undefined) return tokens;

  const key = new TextEncoder().encode(secret);
  for (const userIndex of new Set(command.streamUsers)) {
    const token = await new SignJWT({ id: command.userIds[userIndex] })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);
    tokens.set(userIndex, token);
  }

  return tokens;
}

// Opens the streams a few at a time, as browsers arriving together would.
async function open(command: OpenCommand): Promise<OpenReport> {
  const tokens = await signTokens(command);
  const total = command.streamUsers.length;
  const startedAt = sharedNow();
  let next = 0;
  let opened = 0;
  let failed = 0;
  let firstError: string | undefined;

  return new Promise((resolve) => {
    const pending = new Set<StreamSocket>();
    const finish = () => {
      clearTimeout(timer);
      resolve({ kind: 'opened', opened, failed, firstError, startedAt, finishedAt: sharedNow() });
    };
    const settle = (stream: StreamSocket) => {
      pending.delete(stream);
      if (opened + failed === total) finish();
      else startNext();
    };
    const listener: StreamListener = {
      ...counting,
      opened(stream) {
        opened += 1;
        settle(stream);
      },
      failed(stream, reason) {
        failed += 1;
        firstError ??= reason;
        settle(stream);
      },
    };
    const startNext = () => {
      if (next >= total) return;
      const userIndex = command.streamUsers[next] ?? 0;
      next += 1;
      const stream = new StreamSocket(userIndex, listener);
      streams.push(stream);
      pending.add(stream);
      stream.open({
        port: command.target.port,
        path: command.target.path,
        localAddress: command.localAddress,
        token: tokens.get(userIndex),
        keyBy: command.target.keyBy,
      });
    };
    const timer = setTimeout(() => {
      for (const stream of [...pending]) stream.abandon('timed out');
      failed += total - next;
      finish();
    }, command.timeoutMs);

    if (total === 0) finish();
    for (let i = 0; i < command.concurrency; i += 1) startNext();
  });
}

// Waits until every expected event has come, or nothing has come for a while, then checks.
async function expect(command: ExpectCommand): Promise<CheckReport> {
  const wanted = checkDeliveries(streams, command.userIndexes, command.keys).expected;
  const startedAt = sharedNow();
  const deadline = Date.now() + command.timeoutMs;

  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      const idle = sharedNow() - Math.max(lastReceivedAt, startedAt) > command.idleMs;
      if (received >= wanted || idle || Date.now() > deadline) {
        clearInterval(poll);
        resolve();
      }
    }, 10);
  });

  const tally = checkDeliveries(streams, command.userIndexes, command.keys);
  const report: CheckReport = {
    kind: 'checked',
    ...tally,
    closedEarly,
    lastReceivedAt,
    latencyMax: latencies.max,
    latencies: latencies.take(),
  };
  for (const stream of streams) stream.keys = [];
  received = 0;
  closedEarly = 0;

  return report;
}

function close(): ClosedReport {
  const closed = streams.length;
  for (const stream of streams) stream.close();
  streams = [];

  return { kind: 'closed', closed };
}

serveCommands(async (message: Envelope<unknown>['body']): Promise<Report> => {
  const command = message as OpenCommand | ExpectCommand | { kind: 'close' };
  if (command.kind === 'open') return open(command);
  if (command.kind === 'expect') return expect(command);
  if (command.kind === 'close') return close();

  throw new Error(`unknown command ${String((command as { kind: unknown }).kind)}`);
});
