import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  TEST_JWT_SECRET,
  TEST_SERVICE_TOKEN,
  waitFor,
} from './support/server.js';

const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const STREAMS = 100;
const SHUTDOWN_TIMEOUT_MS = 4000;

test('SIGTERM with 100 open streams drains them with retry hints and exits in time', async () => {
  const serve = await spawnServe({
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    MAX_STREAMS_PER_USER: '0',
  });
  const { child, exited, closed } = serve;
  const streams: RawStream[] = [];

  try {
    const url = await listeningUrl(serve.output);
    const user = await registerUser(url);
    for (let index = 0; index < STREAMS; index += 1) {
      streams.push(await openRawStream(`${url}/api/events/stream`, user));
    }
    await Promise.all(streams.map((stream) => stream.waitFor((f) => f.event === 'connected')));
    const endedAt: number[] = [];
    for (const stream of streams) {
      void stream.waitForEnd(SHUTDOWN_TIMEOUT_MS + 2000).then(() => endedAt.push(Date.now()));
    }

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const ready = await call(`${url}/readyz`);
    const refusedEmit = await emit(url, { userId: user.id, eventType: 'x', data: {} });
    const refusedStream = await call(`${url}/api/events/stream`, user);
    const code = await exited;
    const exitMs = Date.now() - signalledAt;

    assert.equal(ready.status, 503, 'readiness fails first');
    assert.equal(ready.body.code, 'SHUTTING_DOWN');
    assert.equal(refusedEmit.status, 503);
    assert.equal(refusedStream.status, 503);
    assert.equal(code, 0);
    assert.ok(exitMs < SHUTDOWN_TIMEOUT_MS, `exited after ${exitMs} ms`);
    assert.ok(
      streams.every((stream) => stream.ended),
      'every stream ended',
    );
    const retries = streams.map((stream) => stream.frames.find((f) => f.retry !== undefined));
    assert.ok(retries.every(Boolean), 'every stream got a retry hint');
    assert.ok(new Set(retries.map((frame) => frame!.retry)).size > STREAMS / 2, 'hints vary');
    const spread = Math.max(...endedAt) - Math.min(...endedAt);
    assert.ok(spread > 500, `closes spread over ${spread} ms`);

    // Log lines leave in batches; those still waiting when the process exits leave then.
    await closed;
    const lines = serve.output().split('\n');
    const count = (message: string) => lines.filter((line) => line.includes(message)).length;
    assert.equal(count('"msg":"stream opened"'), STREAMS);
    assert.equal(count('"msg":"stream closed"'), STREAMS);
  } finally {
    for (const stream of streams) stream.close();
    await serve.cleanUp();
  }
});

test('a request that reaches the closing server still gets SHUTTING_DOWN', async () => {
  const server = await startTestServer();
  const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (bytes: Buffer) => (received += bytes.toString('utf8')));
  const body = JSON.stringify({ userId: '0123456789abcdef01234567', eventType: 'x', data: {} });
  const emitHead =
    `POST /api/events/emit HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: Bearer ${TEST_SERVICE_TOKEN}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${body.length}\r\n\r\n`;

  try {
    // A body still arriving keeps the connection busy, so the closing server waits for it.
    socket.write(emitHead + body.slice(0, 5));
    await waitFor(
      () => server.pulse.emitFront.taken,
      (taken) => taken === 1,
    );
    const stopped = server.stop();
    // No stream to drain: the listener closes at once and Fastify is then closing.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Any route, not only those that check for a shutdown themselves: the stores are closing.
    const login = JSON.stringify({ email: 'someone@example.com', password: 'whatever-it-is' });
    const loginRequest =
      `POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${login.length}\r\n\r\n${login}`;
    socket.write(body.slice(5) + loginRequest);
    const answers = await waitFor(
      () => received.split(/(?=HTTP\/1\.1 )/),
      (found) => found.length === 2,
    );
    await stopped;

    assert.equal(answers.length, 2, received);
    for (const answer of answers) {
      assert.match(answer, /^HTTP\/1\.1 503 /);
      assert.match(answer, /"code":"SHUTTING_DOWN"/);
    }
    assert.match(answers[1]!, /\r\nconnection: close\r\n/i, 'the connection ends with it');
  } finally {
    socket.destroy();
  }
});

test('SIGTERM ends the process in time even when nobody reads its stdout', async () => {
  const serve = await spawnServe({ SHUTDOWN_TIMEOUT_MS: '3000', LOG_LEVEL: 'info' });
  const { child, exited } = serve;

  try {
    const url = await listeningUrl(serve.output);
    // From here on stdout is not read: once the pipe is full, every write to it waits.
    child.stdout.pause();
    // Each refusal logs a line: together, far more than a pipe holds.
    for (let round = 0; round < 100; round += 1) {
      await Promise.all(
        Array.from({ length: 20 }, () => call(`${url}/api/auth/me`, { token: 'not-a-token' })),
      );
    }

    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await Promise.race([exited, pause(8000).then(() => 'still running')]);

    assert.notEqual(code, 'still running', 'the process hung on its stdout');
    assert.ok(Date.now() - signalledAt < 5000, `exited after ${Date.now() - signalledAt} ms`);
  } finally {
    await serve.cleanUp();
  }
});

test('SIGHUP (a closed terminal) shuts down as SIGTERM does, its last lines written', async () => {
  const serve = await spawnServe({ LOG_LEVEL: 'info' });

  try {
    const url = await listeningUrl(serve.output);
    // Logged just before the signal: these lines are still waiting for their batch.
    for (let index = 0; index < 3; index += 1) {
      await call(`${url}/api/auth/me`, { token: 'not-a-token' });
    }
    serve.child.kill('SIGHUP');

    assert.equal(await serve.closed, 0);
    const output = serve.output();
    assert.equal(output.split('\n').filter((line) => line.includes('request rejected')).length, 3);
    assert.match(output, /"signal":"SIGHUP","msg":"shutting down"/);
  } finally {
    await serve.cleanUp();
  }
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `pulse serve` in a child process, on a fresh data folder, with what it writes kept. */
async function spawnServe(env: Record<string, string>) {
  const dataDir = await mkdtemp(join(tmpdir(), 'pulse-serve-'));
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    env: {
      ...process.env,
      PORT: '0',
      DATA_DIR: dataDir,
      DATABASE_URL: `sqlite:${join(dataDir, 'pulse.db')}`,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));

  return {
    child,
    output: () => output,
    exited: new Promise<number | null>((resolve) => child.once('exit', resolve)),
    // 'close' comes once stdout has been read to its end, after 'exit'.
    closed: new Promise<number | null>((resolve) => child.once('close', resolve)),
    async cleanUp() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function listeningUrl(read: () => string): Promise<string> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const line = read()
      .split('\n')
      .find((entry) => entry.includes('pulse listening'));
    if (line) return JSON.parse(line).url as string;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`Pulse did not start: ${read()}`);
}
