/**
 * What the Redis backplane costs: deliveries per second for one instance on its in-process
 * default, one instance on Redis, and three instances on Redis, in one run on this machine.
 *
 *   node --import tsx bench/cluster-bench.ts
 *   BENCH_STREAMS=3000 BENCH_USERS=600 BENCH_EMITS=80000 node --import tsx bench/cluster-bench.ts
 *
 * Each setup gets the same users, the same N streams (spread round robin over its instances)
 * and the same E emits (in batches, round robin over the instances and the users). Deliveries
 * per second run from the first emit to the last frame received. Every stream checks that it
 * got each event of its user once, in id order. Prints one JSON line, then a table. Bounded:
 * the run stops itself, and every process it started, after BENCH_LIMIT_MS (2 minutes).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenService } from '../src/auth/jwt.js';
import { openUserStore } from '../src/store/open-user-store.js';
import {
  children,
  cpuSeconds,
  startInstance,
  startRedis,
  stop,
  waitUntil,
} from './cluster-processes.js';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1500);
const USERS = Number(process.env.BENCH_USERS ?? 300);
const EMITS = Number(process.env.BENCH_EMITS ?? 50_000);
const LIMIT_MS = Number(process.env.BENCH_LIMIT_MS ?? 120_000);
const WARMUP_EMITS = 1000;
const BATCH = 250;
const BATCHES_IN_FLIGHT = 4;
const SECRET = 'cluster-bench-jwt-secret-0123456789abcdef';
const SERVICE_TOKEN = 'cluster-bench-service-token';

/** One setup to measure. */
interface Setup {
  name: string;
  instances: number;
  redis: boolean;
}

const SETUPS: Setup[] = [
  { name: '1 instance, in process', instances: 1, redis: false },
  { name: '1 instance, Redis', instances: 1, redis: true },
  { name: '3 instances, Redis', instances: 3, redis: true },
];

/** What one setup measured. */
interface Result {
  setup: string;
  instances: number;
  streams: number;
  users: number;
  emits: number;
  deliveries: number;
  seconds: number;
  deliveriesPerSecond: number;
  emitsPerSecond: number;
  lost: number;
  duplicated: number;
  serverCpuSeconds: number;
  redisCpuSeconds: number;
  cpuMicrosPerDelivery: number;
}

/** One stream as the bench reads it: frames counted, ids checked for order. */
class BenchStream {
  count = 0;
  outOfOrder = 0;
  connected = false;
  #lastId = 0;
  #pendingId: number | undefined;
  #rest = '';
  #response: IncomingMessage | undefined;

  constructor(
    readonly userIndex: number,
    url: string,
    token: string,
  ) {
    const headers = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
    const outgoing = request(`${url}/api/events/stream`, { headers, agent: false }, (res) => {
      this.#response = res;
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => this.#read(chunk));
      res.on('error', () => undefined);
    });
    outgoing.on('error', () => undefined);
    outgoing.end();
  }

  /** Forgets what was counted (after the warm-up). */
  reset(): void {
    this.count = 0;
    this.outOfOrder = 0;
  }

  close(): void {
    this.#response?.destroy();
  }

  // Counts frames with an `id:` line; the `connected` frame's id is a position, not an event.
  // Frames arrive split anywhere, so the id seen stays pending across chunks.
  #read(chunk: string): void {
    const lines = (this.#rest + chunk).split('\n');
    this.#rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('id: ')) this.#pendingId = Number(line.slice(4));
      else if (line === 'event: connected') {
        this.connected = true;
        this.#pendingId = undefined;
      } else if (line === '' && this.#pendingId !== undefined) {
        if (this.#pendingId <= this.#lastId) this.outOfOrder += 1;
        this.#lastId = this.#pendingId;
        this.count += 1;
        this.#pendingId = undefined;
      }
    }
  }
}

async function createUsers(databaseUrl: string): Promise<{ id: string; token: string }[]> {
  const store = await openUserStore(databaseUrl);
  const tokens = createTokenService(SECRET);
  const users = [];
  for (let index = 0; index < USERS; index += 1) {
    // Nobody signs in with a password here: tokens are signed directly.
    const passwordHash = 'not-a-password-hash';
    const user = await store.createUser({
      email: `bench${index}@bench.local`,
      name: 'b',
      passwordHash,
    });
    users.push({ id: user.id, token: await tokens.sign(user.id, '1h') });
  }
  await store.close();

  return users;
}

async function postBatch(url: string, events: unknown[]): Promise<{ userId: string }[]> {
  const response = await fetch(`${url}/api/events/emit/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${SERVICE_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  if (!response.ok) throw new Error(`batch answered ${response.status}`);
  const { results } = (await response.json()) as { results: { status: string }[] };

  return results
    .map((result, index) => ({ result, event: events[index] as { userId: string } }))
    .filter(({ result }) => result.status === 'delivered')
    .map(({ event }) => event);
}

// Sends `count` emits, round robin over users and instances, a few batches in flight.
async function emitAll(urls: string[], users: { id: string }[], count: number) {
  const acceptedByUser = new Map<string, number>();
  let next = 0;
  let batchNumber = 0;
  const sender = async () => {
    while (next < count) {
      const size = Math.min(BATCH, count - next);
      const events = Array.from({ length: size }, (_, offset) => ({
        userId: users[(next + offset) % users.length]!.id,
        eventType: 'bench:event',
        data: { seq: next + offset },
      }));
      next += size;
      const url = urls[batchNumber++ % urls.length]!;
      for (const { userId } of await postBatch(url, events)) {
        acceptedByUser.set(userId, (acceptedByUser.get(userId) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: BATCHES_IN_FLIGHT }, sender));

  return acceptedByUser;
}

async function measure(setup: Setup, dataDir: string, users: { id: string; token: string }[]) {
  const redis = setup.redis ? await startRedis() : undefined;
  const databaseUrl = `sqlite:${join(dataDir, 'pulse.db')}`;
  const env: Record<string, string> = { DATABASE_URL: databaseUrl, DATA_DIR: dataDir };
  if (redis) env.REDIS_URL = redis.url;
  const instances = [];
  for (let index = 0; index < setup.instances; index += 1) {
    instances.push(await startInstance({ secret: SECRET, serviceToken: SERVICE_TOKEN, env }));
  }
  const urls = instances.map((instance) => instance.url);
  const streamsPerUser = Math.max(1, Math.floor(STREAMS / users.length));
  const streams: BenchStream[] = [];

  try {
    await openStreams(streams, urls, users, streamsPerUser);
    // Let every instance announce its streams before the clock starts.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    const warm = await emitAll(urls, users, WARMUP_EMITS);
    const warmTotal = [...warm.values()].reduce((sum, n) => sum + n, 0) * streamsPerUser;
    await waitUntil(() => received(streams) >= warmTotal, 30_000, 'warm-up deliveries');
    for (const stream of streams) stream.reset();

    const pids = instances.map((instance) => instance.pid);
    const cpuBefore = pids.map(cpuSeconds);
    const redisCpuBefore = redis ? cpuSeconds(redis.child.pid!) : 0;
    const startedAt = performance.now();
    const accepted = await emitAll(urls, users, EMITS);
    const emitSeconds = (performance.now() - startedAt) / 1000;
    const acceptedTotal = [...accepted.values()].reduce((sum, n) => sum + n, 0);
    const expected = acceptedTotal * streamsPerUser;
    await waitUntil(() => received(streams) >= expected, 60_000, 'deliveries').catch(() => {});
    const seconds = (performance.now() - startedAt) / 1000;
    const deliveries = received(streams);
    const serverCpuSeconds = pids.reduce((sum, pid, i) => sum + cpuSeconds(pid) - cpuBefore[i]!, 0);
    const redisCpuSeconds = redis ? cpuSeconds(redis.child.pid!) - redisCpuBefore : 0;
    // A moment more, so duplicates arriving late are counted too.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { lost, duplicated } = check(streams, users, accepted);

    return {
      setup: setup.name,
      instances: setup.instances,
      streams: streams.length,
      users: users.length,
      emits: acceptedTotal,
      deliveries,
      seconds: round(seconds),
      deliveriesPerSecond: Math.round(deliveries / seconds),
      emitsPerSecond: Math.round(acceptedTotal / emitSeconds),
      lost,
      duplicated,
      serverCpuSeconds: round(serverCpuSeconds),
      redisCpuSeconds: round(redisCpuSeconds),
      cpuMicrosPerDelivery: round(((serverCpuSeconds + redisCpuSeconds) * 1e6) / deliveries),
    } satisfies Result;
  } finally {
    for (const stream of streams) stream.close();
    for (const child of [...children]) await stop(child);
  }
}

// Opens streamsPerUser streams for every user, round robin over the instances, 200 at a time.
async function openStreams(
  streams: BenchStream[],
  urls: string[],
  users: { token: string }[],
  streamsPerUser: number,
): Promise<void> {
  for (let index = 0; index < users.length * streamsPerUser; index += 1) {
    const userIndex = Math.floor(index / streamsPerUser);
    streams.push(new BenchStream(userIndex, urls[index % urls.length]!, users[userIndex]!.token));
    if (index % 200 === 199 || index === users.length * streamsPerUser - 1) {
      await waitUntil(() => streams.every((stream) => stream.connected), 20_000, 'streams');
    }
  }
}

// Each stream should have every event accepted for its user, once, in id order.
function check(streams: BenchStream[], users: { id: string }[], accepted: Map<string, number>) {
  let lost = 0;
  let duplicated = 0;
  for (const stream of streams) {
    const wanted = accepted.get(users[stream.userIndex]!.id) ?? 0;
    lost += Math.max(0, wanted - stream.count);
    duplicated += Math.max(0, stream.count - wanted) + stream.outOfOrder;
  }

  return { lost, duplicated };
}

function received(streams: BenchStream[]): number {
  return streams.reduce((sum, stream) => sum + stream.count, 0);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function printTable(results: Result[]): void {
  const header = [
    'setup',
    'deliveries/s',
    'emits/s',
    'lost',
    'dup',
    'server CPU s',
    'redis CPU s',
    'µs CPU/delivery',
  ];
  const rows = results.map((r) => [
    r.setup,
    String(r.deliveriesPerSecond),
    String(r.emitsPerSecond),
    String(r.lost),
    String(r.duplicated),
    String(r.serverCpuSeconds),
    String(r.redisCpuSeconds),
    String(r.cpuMicrosPerDelivery),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'pulse-cluster-bench-'));
  const databaseUrl = `sqlite:${join(dataDir, 'pulse.db')}`;
  try {
    const users = await createUsers(databaseUrl);
    const results: Result[] = [];
    for (const setup of SETUPS) results.push(await measure(setup, dataDir, users));

    const machine = { cpus: cpus().length, node: process.version };
    console.log(JSON.stringify({ bench: 'cluster', machine, results }));
    printTable(results);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

// The whole run is bounded: past the limit, everything it started is killed.
const watchdog = setTimeout(() => {
  console.error(`cluster bench: over ${LIMIT_MS} ms, stopping`);
  for (const child of children) child.kill('SIGKILL');
  process.exit(1);
}, LIMIT_MS);

main().then(
  () => clearTimeout(watchdog),
  async (error: unknown) => {
    console.error(error);
    for (const child of [...children]) await stop(child);
    clearTimeout(watchdog);
    process.exitCode = 1;
  },
);
