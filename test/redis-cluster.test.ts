import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  idsOf,
  inChild,
  inProcess,
  startSteadyEmits,
  type Instance,
  type User,
} from './support/cluster.js';
import { startPulseProcess, type PulseProcess } from './support/pulse-process.js';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import { startRedis, type TestRedis } from './support/redis.js';
import type { RedisBus } from '../src/bus/redis-bus.js';
import { ResumingClient } from './support/resuming-client.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  waitFor,
  type TestServer,
} from './support/server.js';

// Short heartbeats, so that a few seconds without Redis show several on every stream.
const HEARTBEAT_MS = '300';

describe('three Pulse instances on one Redis', { timeout: 180_000 }, () => {
  let redis: TestRedis;
  let dataDir: string;
  let servers: TestServer[] = [];
  let child: PulseProcess | undefined;
  let a: Instance;
  let b: Instance;
  let c: Instance;
  const extraChildren: PulseProcess[] = [];
  const streams: RawStream[] = [];

  function clusterEnv(): Record<string, string> {
    return {
      REDIS_URL: redis.url,
      DATABASE_URL: `sqlite:${join(dataDir, 'pulse.db')}`,
      DATA_DIR: dataDir,
      HEARTBEAT_MS,
      EMIT_RATE_LIMIT_PER_USER: '0',
      MAX_STREAMS_PER_USER: '0',
    };
  }

  async function tab(url: string, user: User, query = ''): Promise<RawStream> {
    const stream = await openRawStream(`${url}/api/events/stream${query}`, user);
    streams.push(stream);
    assert.equal(stream.status, 200, `stream on ${url} answered ${stream.status}`);
    await stream.waitFor((frame) => frame.event === 'connected');

    return stream;
  }

  async function spawnInstance(): Promise<PulseProcess> {
    const started = await startPulseProcess(clusterEnv());
    extraChildren.push(started);

    return started;
  }

  before(async () => {
    redis = await startRedis();
    dataDir = await mkdtemp(join(tmpdir(), 'pulse-cluster-'));
    servers = [
      await startTestServer(clusterEnv(), { dataDir }),
      await startTestServer(clusterEnv(), { dataDir }),
    ];
    child = await startPulseProcess(clusterEnv());
    a = inProcess('A', servers[0]!);
    b = inProcess('B', servers[1]!);
    c = inChild('C', child);
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await Promise.all(extraChildren.map((extra) => extra.kill()));
    await child?.kill();
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  test("delivers an emit on instance A to the user's tabs on B and C once each", async () => {
    const user = await registerUser(a.url);
    const onB = await tab(b.url, user);
    const onC = await tab(c.url, user);
    await waitForCount(a.url, user, 2);

    const sent = await emit(a.url, { userId: user.id, eventType: 'metrics:updated', data: {} });
    // A second event, sent after the first: once it has arrived, a doubled first would have too.
    const marker = await emit(a.url, { userId: user.id, eventType: 'test:marker', data: {} });

    assert.equal(sent.status, 200);
    assert.equal(sent.body.connectionsNotified, 2);
    assert.equal(sent.body.connectionsScope, 'cluster');
    assert.equal(sent.body.hasActiveConnections, true);
    for (const stream of [onB, onC]) {
      await stream.waitFor((frame) => frame.id === marker.body.eventId);
      assert.deepEqual(idsOf(stream.frames), [sent.body.eventId, marker.body.eventId]);
    }
  });

  test("ends a deleted user's streams on every instance, not only its own", async () => {
    const user = await registerUser(a.url);
    const onA = await tab(a.url, user);
    const onB = await tab(b.url, user);
    const onC = await tab(c.url, user);

    const deleted = await call(`${a.url}/api/auth/me`, { method: 'DELETE', token: user.token });

    assert.equal(deleted.status, 200);
    await Promise.all([onA, onB, onC].map((stream) => stream.waitForEnd(5_000)));
    const again = await call(`${c.url}/api/events/stream`, { token: user.token });
    assert.equal(again.body.code, 'USER_NOT_FOUND');
  });

  test('sends a deletion notice again until Redis takes it', async () => {
    const user = await registerUser(a.url);
    const onB = await tab(b.url, user);
    const commands = (servers[0]!.pulse.context.bus as RedisBus).commands;
    const xadd = commands.xadd;
    let refusals = 2;
    // As when Redis keeps the connection but the answers are lost: two attempts fail.
    commands.xadd = (async (...args: unknown[]) => {
      if (refusals > 0) {
        refusals -= 1;
        throw new Error('Connection lost');
      }
      return (xadd as (...forwarded: unknown[]) => Promise<unknown>).apply(commands, args);
    }) as typeof commands.xadd;

    try {
      const deleted = await call(`${a.url}/api/auth/me`, { method: 'DELETE', token: user.token });

      assert.equal(deleted.status, 200, 'the account is deleted whatever the bus does');
      assert.equal(onB.ended, false, 'the first notice did not go out');
      await onB.waitForEnd(5_000);
      assert.equal(refusals, 0);
    } finally {
      commands.xadd = xadd;
    }
  });

  test('names the users whose deletion notices may not have gone out, at shutdown', async () => {
    const leaving = await startTestServer(clusterEnv(), { dataDir });
    const user = await registerUser(leaving.url);
    const commands = (leaving.pulse.context.bus as RedisBus).commands;
    commands.xadd = (async () => {
      throw new Error('Connection lost');
    }) as typeof commands.xadd;

    const deleted = await call(`${leaving.url}/api/auth/me`, {
      method: 'DELETE',
      token: user.token,
    });
    await leaving.stop();

    assert.equal(deleted.status, 200);
    const line = leaving.logLines
      .map((entry) => JSON.parse(entry))
      .find((entry) => entry.msg === 'deletion notices perhaps not sent');
    assert.ok(line, 'the unsent notice is logged');
    assert.equal(line.level, 50);
    assert.deepEqual(line.userIds, [user.id]);
  });

  test('opens a stream on instance B with a ticket issued by instance A, once', async () => {
    const user = await registerUser(a.url);
    const issued = await call(`${a.url}/api/events/ticket`, { token: user.token, body: {} });
    assert.equal(issued.status, 200);

    const onB = await tab(b.url, { id: user.id, token: '' }, `?ticket=${issued.body.ticket}`);
    const again = await openRawStream(`${c.url}/api/events/stream?ticket=${issued.body.ticket}`);
    streams.push(again);
    const sent = await emit(c.url, { userId: user.id, eventType: 'metrics:updated', data: {} });

    assert.equal(onB.frames[0]!.json.userId, user.id);
    await onB.waitFor((frame) => frame.id === sent.body.eventId);
    assert.equal(again.status, 401, 'a ticket opens one stream only, on any instance');
  });

  test('shares the per-user emit rate limit across instances', async () => {
    const limit = 5;
    const limited = await Promise.all(
      [0, 1, 2].map(() =>
        startTestServer({ ...clusterEnv(), EMIT_RATE_LIMIT_PER_USER: String(limit) }, { dataDir }),
      ),
    );
    try {
      const user = await registerUser(limited[0]!.url);
      // Start at the beginning of a one-second window, so every emit below counts in one.
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 20));
      const answers = await Promise.all(
        limited.flatMap((server) =>
          [0, 1, 2, 3].map(() =>
            emit(server.url, { userId: user.id, eventType: 'metrics:updated', data: {} }),
          ),
        ),
      );

      const accepted = answers.filter((answer) => answer.status === 200);
      const refused = answers.filter((answer) => answer.status === 429);
      assert.equal(accepted.length, limit, 'the limit holds for the cluster, not per instance');
      assert.equal(refused.length, 12 - limit);
      assert.ok(refused.every((answer) => answer.body.code === 'RATE_LIMITED'));
      assert.ok(refused.every((answer) => answer.headers.get('retry-after') !== null));
    } finally {
      await Promise.all(limited.map((server) => server.stop()));
    }
  });

  test('counts streams across instances per instance, and drops one that dies', async (t) => {
    const doomed = await spawnInstance();
    const user = await registerUser(a.url);
    await tab(a.url, user);
    await tab(b.url, user);
    await tab(b.url, user);
    await tab(c.url, user);
    await tab(doomed.url, user);
    // Each instance counts its own streams live and the others' as of their last heartbeat.
    for (const instance of [a, b, c]) await waitForCount(instance.url, user, 5);

    const { body: view } = await call(`${a.url}/api/events/debug/connections`, user);
    const mine = view.users.find((entry: { userId: string }) => entry.userId === user.id);
    const { body: count } = await call(`${c.url}/api/events/debug/count/${user.id}`, user);

    assert.equal(view.scope, 'cluster');
    assert.equal(mine.connections, 5);
    assert.equal(count.connectionCount, 5);
    assert.equal(count.isConnected, true);
    assert.equal(view.instances.length, 4, 'A, B, C and the one about to die');
    assert.equal(new Set(view.instances.map((entry: Breakdown) => entry.instanceId)).size, 4);
    const ownA = view.instances.find(
      (entry: Breakdown) => entry.instanceId === servers[0]!.pulse.context.cluster!.instanceId,
    );
    assert.ok(ownA.connections >= 1, 'A reports its own streams');
    assert.equal(
      view.totalConnections,
      view.instances.reduce((total: number, entry: Breakdown) => total + entry.connections, 0),
    );

    const killedAt = Date.now();
    await doomed.kill();
    const after = await waitFor(
      () => call(`${a.url}/api/events/debug/connections`, user),
      ({ body }) => body.instances.length === 3,
      30_000,
    );
    const droppedMs = Date.now() - killedAt;
    t.diagnostic(`the dead instance dropped out after ${droppedMs} ms`);
    const counted = await call(`${b.url}/api/events/debug/count/${user.id}`, user);

    assert.equal(after.body.instances.length, 3, `still 4 instances after ${droppedMs} ms`);
    assert.equal(counted.body.connectionCount, 4);
    assert.ok(droppedMs < 30_000);
  });

  test('resumes on another instance with nothing lost when its instance is killed', async () => {
    const doomed = await spawnInstance();
    const user = await registerUser(a.url);
    const first = new ResumingClient(doomed.url, user.token);
    await first.connect();
    const before = await emitSeveral([a, b, c], user, 3);
    await first.waitForEvents(3);

    await doomed.kill();
    const whileAway = await emitSeveral([a, b, c], user, 3);
    const second = new ResumingClient(b.url, user.token);
    second.lastEventId = first.lastEventId;
    await second.connect();
    const live = await emitSeveral([c], user, 1);
    await second.waitForEvents(4);
    const marker = await emitSeveral([a], user, 1);
    await second.waitForEvents(5);
    first.drop();
    second.drop();

    assert.deepEqual(idsOf(first.events), before);
    assert.deepEqual(idsOf(second.events), [...whileAway, ...live, ...marker]);
    assert.equal(second.connects[0]!.json.resumed, true);
    assert.equal(second.connects[0]!.json.replayed, 3);
  });

  test('rides out a Redis restart: 503s while down, then every accepted emit once', async (t) => {
    const instances = [a, b, c];
    const users = [await registerUser(a.url), await registerUser(a.url)];
    const leaving = await registerUser(a.url);
    const tabs = new Map<string, RawStream[]>();
    for (const user of users) {
      tabs.set(user.id, await Promise.all(instances.map((instance) => tab(instance.url, user))));
    }
    for (const user of users) await waitForCount(a.url, user, 3);

    const emitter = startSteadyEmits(instances, users);
    await waitFor(
      () => emitter.accepted.length,
      (count) => count >= 10,
      5000,
    );

    await redis.stop();
    const stoppedAt = Date.now();
    await waitFor(
      () => emitter.refused.length,
      (count) => count >= instances.length,
      5000,
    );
    const readyWhileDown = await Promise.all(instances.map((i) => call(`${i.url}/readyz`)));
    const deleteWhileDown = await call(`${b.url}/api/auth/me`, {
      method: 'DELETE',
      token: leaving.token,
    });
    const beatsBefore = heartbeats(tabs);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const beatsDuring = heartbeats(tabs).map((count, index) => count - beatsBefore[index]!);
    const acceptedWhileDown = emitter.accepted.filter((e) => e.answeredAt > stoppedAt + 500);

    await redis.start();
    const restartedAt = Date.now();
    const readyAgain = await Promise.all(
      instances.map((instance) =>
        waitFor(
          () => call(`${instance.url}/readyz`),
          ({ status }) => status === 200,
          15_000,
        ),
      ),
    );
    await waitFor(
      () => emitter.accepted.filter((e) => e.answeredAt > restartedAt).length,
      (count) => count >= 20,
      15_000,
    );
    await emitter.stop();
    t.diagnostic(
      `${emitter.accepted.length} emits accepted, ${emitter.refused.length} refused with 503`,
    );

    assert.ok(
      readyWhileDown.every(({ status }) => status === 503),
      'readiness fails',
    );
    assert.ok(readyWhileDown.every(({ body }) => body.code === 'NOT_READY'));
    // Other instances could not hear of it: the deletion is refused, and nothing is deleted.
    assert.equal(deleteWhileDown.status, 503);
    assert.equal(deleteWhileDown.body.code, 'BUS_UNAVAILABLE');
    assert.equal((await call(`${a.url}/api/auth/me`, { token: leaving.token })).status, 200);
    assert.deepEqual(acceptedWhileDown, [], 'no emit is accepted while Redis is down');
    assert.deepEqual(emitter.unexpected, [], 'every answer is 200, or 503 BUS_UNAVAILABLE');
    assert.ok(
      emitter.refused.every((answer) => answer.retryAfter !== null),
      'with Retry-After',
    );
    assert.ok(
      readyAgain.every(({ status }) => status === 200),
      'ready again by itself',
    );
    assert.ok(
      beatsDuring.every((count) => count >= 2),
      `heartbeats while Redis was down: ${beatsDuring.join(', ')}`,
    );
    for (const user of users) {
      const expected = emitter.accepted.filter((e) => e.userId === user.id).map((e) => e.eventId);
      for (const stream of tabs.get(user.id)!) await assertReceivedOnce(stream, expected);
    }
    for (const instance of instances) {
      const said = `${instance.name} logged ${JSON.stringify(instance.redisLines())}`;
      assert.equal(instance.logged('redis unreachable'), 1, said);
      assert.equal(instance.logged('redis reachable again'), 1, said);
    }
  });
});

/** One instance's entry in the cluster view. */
interface Breakdown {
  instanceId: string;
  connections: number;
  users: number;
}

// Every id in `expected` arrives once, in order, on a stream that stayed open; others may
// arrive too (an emit refused with 503 may have been recorded just before Redis went).
async function assertReceivedOnce(stream: RawStream, expected: string[]): Promise<void> {
  await stream.waitFor((frame) => frame.id === expected.at(-1), 1, 10_000);
  const received = idsOf(stream.frames);

  assert.equal(stream.ended, false, 'the stream stayed open');
  assert.equal(new Set(received).size, received.length, 'no event arrives twice');
  assert.deepEqual(
    received.filter((id) => expected.includes(id)),
    expected,
    'every accepted emit arrives, in order',
  );
}

function heartbeats(tabs: Map<string, RawStream[]>): number[] {
  return [...tabs.values()].flat().map((stream) => stream.ofType('heartbeat').length);
}

async function waitForCount(url: string, user: User, count: number): Promise<void> {
  const { body } = await waitFor(
    () => call(`${url}/api/events/debug/count/${user.id}`, user),
    (answer) => answer.body.connectionCount === count,
    5000,
  );
  assert.equal(body.connectionCount, count, 'the cluster sees every stream');
}

// Emits one event per instance in turn, and returns their ids in emit order.
async function emitSeveral(instances: Instance[], user: User, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const instance = instances[index % instances.length]!;
    const { status, body } = await emit(instance.url, {
      userId: user.id,
      eventType: 'metrics:updated',
      data: { index },
    });
    assert.equal(status, 200);
    ids.push(body.eventId);
  }

  return ids;
}
