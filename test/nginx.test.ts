import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openRawStream, type Frame, type RawStream } from './support/raw-stream.js';
import { freePort, startRedis, type TestRedis } from './support/redis.js';
import { ResumingClient } from './support/resuming-client.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  waitFor,
  type TestServer,
} from './support/server.js';

const SAMPLE_CONFIG = fileURLToPath(new URL('../deploy/nginx/pulse.conf', import.meta.url));

// nginx comes from the system's packages (Debian: nginx-light or nginx); this test installs
// nothing. .ci/run installs it where it is missing.
const NGINX = 'nginx';

describe('three instances behind nginx, with the sample configuration', () => {
  let redis: TestRedis;
  let dataDir: string;
  let nginxDir: string;
  let nginx: ChildProcess | undefined;
  let proxy: string;
  const servers: TestServer[] = [];
  const streams: RawStream[] = [];
  const clients: ResumingClient[] = [];

  before(async () => {
    const version = spawnSync(NGINX, ['-v'], { encoding: 'utf8' });
    assert.equal(version.error, undefined, 'nginx must be on PATH (apt-get install nginx-light)');

    redis = await startRedis();
    dataDir = await mkdtemp(join(tmpdir(), 'pulse-nginx-data-'));
    const env = {
      REDIS_URL: redis.url,
      HEARTBEAT_MS: '300',
      EMIT_RATE_LIMIT_PER_USER: '0',
      MAX_STREAMS_PER_USER: '0',
    };
    for (let index = 0; index < 3; index += 1) {
      servers.push(await startTestServer(env, { dataDir }));
    }

    nginxDir = await mkdtemp(join(tmpdir(), 'pulse-nginx-'));
    // nginx started as root runs its workers as `nobody`, who must reach the temp folders.
    await chmod(nginxDir, 0o755);
    const port = await freePort();
    const sample = await readFile(SAMPLE_CONFIG, 'utf8');
    const ports = servers.map((server) => Number(new URL(server.url).port));
    await writeFile(join(nginxDir, 'pulse.conf'), adaptSample(sample, port, ports));
    await writeFile(join(nginxDir, 'nginx.conf'), mainConfig(nginxDir));
    nginx = spawn(
      NGINX,
      [
        ...['-e', join(nginxDir, 'error.log'), '-p', nginxDir],
        ...['-c', join(nginxDir, 'nginx.conf'), '-g', 'daemon off;'],
      ],
      { stdio: 'ignore' },
    );
    proxy = `http://127.0.0.1:${port}`;
    await waitFor(
      () => call(`${proxy}/healthz`).catch(() => ({ status: 0 })),
      ({ status }) => status === 200,
      10_000,
    );
    const health = await call(`${proxy}/healthz`).catch(async () => ({ status: 0 }));
    assert.equal(health.status, 200, await readFile(join(nginxDir, 'error.log'), 'utf8'));
  });

  after(async () => {
    for (const stream of streams) stream.close();
    for (const client of clients) client.drop();
    if (nginx) await stopNginx(nginx);
    await Promise.all(servers.map((server) => server.stop()));
    await redis?.stop();
    if (nginxDir) await rm(nginxDir, { recursive: true, force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  function holders(userId: string): number[] {
    return servers.map((server) => server.pulse.context.hub.countFor(userId));
  }

  test('streams through nginx without buffering: headers, connected and heartbeats', async () => {
    const user = await registerUser(proxy);

    // As a browser would: a compressing proxy holds frames back until its buffer fills.
    const headers = { 'accept-encoding': 'gzip, deflate, br' };
    const stream = await openRawStream(`${proxy}/api/events/stream`, { ...user, headers });
    streams.push(stream);
    assert.equal(stream.headers['content-encoding'], undefined, 'the stream is not compressed');
    await stream.waitFor((frame) => frame.event === 'connected', 1, 2000);
    // Heartbeats are a few dozen bytes: a buffering proxy would sit on them.
    await stream.waitFor((frame) => frame.event === 'heartbeat', 2, 2000);

    assert.equal(stream.status, 200);
    assert.match(String(stream.headers['content-type']), /^text\/event-stream/);
    assert.equal(stream.headers['cache-control'], 'no-cache');
  });

  test('delivers an emit through nginx to streams on all three instances once', async () => {
    const user = await registerUser(proxy);
    const tabs: RawStream[] = [];
    for (let index = 0; index < 3; index += 1) {
      const stream = await openRawStream(`${proxy}/api/events/stream`, user);
      streams.push(stream);
      await stream.waitFor((frame) => frame.event === 'connected');
      tabs.push(stream);
    }
    // Each instance counts the others' streams as of their last cluster heartbeat.
    for (const server of servers) {
      await waitFor(
        () => call(`${server.url}/api/events/debug/count/${user.id}`, user),
        ({ body }) => body.connectionCount === 3,
        5000,
      );
    }

    const sent = await emit(proxy, { userId: user.id, eventType: 'metrics:updated', data: {} });
    const marker = await emit(proxy, { userId: user.id, eventType: 'test:marker', data: {} });

    assert.deepEqual(holders(user.id), [1, 1, 1], 'round robin put one stream on each');
    assert.equal(sent.status, 200);
    assert.equal(sent.body.connectionsNotified, 3);
    for (const tab of tabs) {
      await tab.waitFor((frame) => frame.id === marker.body.eventId, 1, 2000);
      assert.deepEqual(idsOf(tab.frames), [sent.body.eventId, marker.body.eventId]);
    }
  });

  test('resumes through nginx on whichever instance it lands, losing nothing', async () => {
    const user = await registerUser(proxy);
    const expected: string[] = [];
    const servedBy = new Set<number>();
    let client = new ResumingClient(proxy, user.token);
    clients.push(client);
    const received: Frame[] = [];

    for (let round = 0; round < 3; round += 1) {
      await client.connect();
      const held = await waitFor(
        () => holders(user.id),
        (counts) => counts.reduce((total, count) => total + count, 0) === 1,
      );
      servedBy.add(held.indexOf(1));
      // Live, through nginx (one request, so the next stream lands on another instance).
      expected.push(...(await emitThrough([proxy], user.id, 1)));
      await client.waitForEvents(expected.length - received.length);
      client.drop();
      received.push(...client.events);
      await waitFor(
        () => holders(user.id),
        (counts) => counts.every((count) => count === 0),
      );
      // While away: straight to the instances, so nginx's rotation is not disturbed.
      expected.push(
        ...(await emitThrough(
          servers.map((server) => server.url),
          user.id,
          3,
        )),
      );

      const next = new ResumingClient(proxy, user.token);
      next.lastEventId = client.lastEventId;
      clients.push(next);
      client = next;
    }
    await client.connect();
    await client.waitForEvents(expected.length - received.length);
    received.push(...client.events);

    assert.deepEqual(idsOf(received), expected);
    assert.ok(servedBy.size >= 2, `the client was served by instances ${[...servedBy]}`);
  });
});

/**
 * The sample configuration with its listen address and upstream ports swapped for the test's:
 * only 127.0.0.1 and free ports. Fails if the sample no longer has the lines it replaces.
 */
function adaptSample(sample: string, port: number, upstreamPorts: number[]): string {
  const listens = sample.match(/^\s*listen\s+[^;]+;/gm) ?? [];
  assert.equal(listens.length, 1, 'the sample listens once');
  let upstreams = 0;
  const adapted = sample
    .replace(/^(\s*)listen\s+[^;]+;/m, `$1listen 127.0.0.1:${port};`)
    .replace(/^(\s*server\s+)127\.0\.0\.1:500([1-3])\b/gm, (_line, start: string, n: string) => {
      upstreams += 1;
      return `${start}127.0.0.1:${upstreamPorts[Number(n) - 1]}`;
    });
  assert.equal(upstreams, 3, 'the sample names three instances');

  return adapted;
}

// Everything nginx writes stays in `dir`: pid, logs and temp files.
function mainConfig(dir: string): string {
  return `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client-body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/pulse.conf;
}
`;
}

// SIGTERM makes the master end its workers; if it does not in time, both are killed by pid.
async function stopNginx(master: ChildProcess): Promise<void> {
  if (master.exitCode !== null || master.signalCode !== null) return;
  const workers = await childrenOf(master.pid!);
  const exited = new Promise((resolve) => master.once('exit', resolve));
  process.kill(master.pid!, 'SIGTERM');
  const timer = setTimeout(() => {
    for (const pid of [master.pid!, ...workers]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

async function childrenOf(parent: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The fields after the command name (in parentheses) start with state, then parent pid.
    const parentPid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (parentPid === parent) found.push(Number(entry));
  }

  return found;
}

async function emitThrough(urls: string[], userId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const { status, body } = await emit(urls[index % urls.length]!, {
      userId,
      eventType: 'metrics:updated',
      data: { index },
    });
    assert.equal(status, 200);
    ids.push(body.eventId);
  }

  return ids;
}

function idsOf(frames: Frame[]): string[] {
  return frames
    .filter((frame) => frame.id !== undefined && frame.event !== 'connected')
    .map((frame) => frame.id!);
}
