import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { rawExchange, type RawAnswer } from './support/raw-connection.js';
import { openRawStream } from './support/raw-stream.js';
import {
  registerUser,
  startTestServer,
  TEST_SERVICE_TOKEN,
  waitFor,
  type TestServer,
} from './support/server.js';

const SOME_USER = '0123456789abcdef01234567';
const MAX_EVENT_BYTES = 4096;

// Headers that differ between any two answers, whichever way they came.
const VARYING_HEADERS = new Set(['date']);

/**
 * One `/emit` request as raw bytes: with a Content-Length (the front's) or chunked. It keeps
 * the connection alive, so the answer shows whether the server would.
 */
function emitRequest(
  body: string | Buffer,
  options: { chunked?: boolean; headers?: string; path?: string } = {},
): Buffer {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  const framing = options.chunked
    ? 'Transfer-Encoding: chunked\r\n'
    : `Content-Length: ${bytes.length}\r\n`;
  const head =
    `POST ${options.path ?? '/api/events/emit'} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    `Authorization: Bearer ${TEST_SERVICE_TOKEN}\r\nContent-Type: application/json\r\n` +
    `${options.headers ?? ''}${framing}\r\n`;
  const payload = options.chunked
    ? Buffer.concat([
        Buffer.from(`${bytes.length.toString(16)}\r\n`),
        bytes,
        Buffer.from('\r\n0\r\n\r\n'),
      ])
    : bytes;

  return Buffer.concat([Buffer.from(head), payload]);
}

// Byte for byte, headers in their order, but for the date and each accepted event's own id.
function comparable(answer: RawAnswer): unknown {
  const body = answer.body.replace(/"eventId":"\d+"/, '"eventId":"<id>"');
  const headers = answer.headers.filter(([name]) => !VARYING_HEADERS.has(name));

  return { status: answer.status, headers, body };
}

describe('the emit front', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ MAX_EVENT_BYTES: String(MAX_EVENT_BYTES) });
  });

  after(async () => {
    await server.stop();
  });

  /** Sends the same body both ways; checks which way each took and that the answers agree. */
  async function bothWays(
    body: string | Buffer,
    headers = '',
    fastifyBody = body,
    fastifyHeaders = headers,
  ): Promise<{ front: RawAnswer; fastify: RawAnswer }> {
    const takenBefore = server.pulse.emitFront.taken;
    const front = await rawExchange(server.url, emitRequest(body, { headers }));
    assert.equal(server.pulse.emitFront.taken, takenBefore + 1, 'the front took the plain one');
    const fastify = await rawExchange(
      server.url,
      emitRequest(fastifyBody, { headers: fastifyHeaders, chunked: true }),
    );
    assert.equal(server.pulse.emitFront.taken, takenBefore + 1, 'the chunked one went on');

    assert.deepEqual(comparable(front), comparable(fastify), String(body));
    return { front, fastify };
  }

  const event = (fields: Record<string, unknown>) =>
    JSON.stringify({ userId: SOME_USER, eventType: 'metrics:updated', data: {}, ...fields });

  test('answers as the Fastify route does, for good and bad bodies alike', async () => {
    const cases: { body: string | Buffer; status: number; code?: string }[] = [
      { body: event({ data: { steps: 1 } }), status: 200 },
      { body: event({ userId: SOME_USER.toUpperCase() }), status: 200 },
      { body: event({ data: { analytics: [1, 2, 3] } }), status: 200 },
      { body: event({ data: { text: 'héllo ✓ 😀' } }), status: 200 },
      { body: `\uFEFF${event({})}`, status: 200 },
      { body: event({ userId: 'nope' }), status: 400, code: 'VALIDATION_FAILED' },
      { body: event({ eventType: 'connected' }), status: 400, code: 'VALIDATION_FAILED' },
      { body: event({ eventType: 'a b' }), status: 400, code: 'VALIDATION_FAILED' },
      { body: event({ data: [] }), status: 400, code: 'VALIDATION_FAILED' },
      { body: event({ data: 'text' }), status: 400, code: 'VALIDATION_FAILED' },
      { body: event({ eventId: 'has space' }), status: 400, code: 'VALIDATION_FAILED' },
      { body: event({ extra: true, data: { analytics: new Array(51).fill(0) } }), status: 400 },
      { body: JSON.stringify({ eventType: 'x', data: {} }), status: 400 },
      { body: '[]', status: 400, code: 'VALIDATION_FAILED' },
      { body: 'null', status: 400, code: 'VALIDATION_FAILED' },
      { body: '{"userId":', status: 400, code: 'INVALID_JSON' },
      { body: 'not json', status: 400, code: 'INVALID_JSON' },
      { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), status: 400, code: 'INVALID_JSON' },
      {
        body: `{"userId":"${SOME_USER}","eventType":"x","data":{},"__proto__":{"admin":true}}`,
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        body: `{"userId":"${SOME_USER}","eventType":"x","data":{"constructor":{"prototype":{}}}}`,
        status: 400,
        code: 'INVALID_JSON',
      },
      {
        body: `{"userId":"${SOME_USER}","eventType":"x","data":${'['.repeat(40)}${']'.repeat(40)}}`,
        status: 400,
        code: 'VALIDATION_FAILED',
      },
    ];

    for (const { body, status, code } of cases) {
      const { front } = await bothWays(body);
      assert.equal(front.status, status, `${String(body)}: ${front.body}`);
      if (code) assert.equal(JSON.parse(front.body).code, code);
      // What follows a body that did not parse cannot be trusted: both ways close.
      const closes = front.headers.some(
        ([name, value]) => name === 'connection' && value === 'close',
      );
      assert.equal(closes, code === 'INVALID_JSON', front.headers.join(' '));
    }
  });

  test('answers idempotency keys, their conflicts and duplicates alike', async () => {
    // Each way first meets a key of its own, then the other's, which is then a duplicate.
    const keyed = (key: string) => event({ eventId: key });
    const firsts = await bothWays(keyed('front-key'), '', keyed('fastify-key'));
    assert.equal(JSON.parse(firsts.front.body).duplicate, false);
    const repeats = await bothWays(keyed('fastify-key'), '', keyed('front-key'));
    assert.equal(JSON.parse(repeats.front.body).duplicate, true);

    const header = (key: string) => `Idempotency-Key: ${key}\r\n`;
    const fromHeader = await bothWays(event({}), header('front-h'), event({}), header('fastify-h'));
    assert.equal(JSON.parse(fromHeader.front.body).duplicate, false);
    const repeatedHeader = await bothWays(
      event({}),
      header('fastify-h'),
      event({}),
      header('front-h'),
    );
    assert.equal(JSON.parse(repeatedHeader.front.body).duplicate, true);

    const conflict = await bothWays(keyed('from-body'), header('from-header'));
    assert.equal(conflict.front.status, 400);
    assert.match(JSON.parse(conflict.front.body).message, /disagree/);
  });

  test('hands every head it does not take plainly to Fastify', async () => {
    const body = event({});
    const handedOn: { request: Buffer; status: number; code?: string }[] = [
      { request: emitRequest(body, { path: '/api/events/emit?x=1' }), status: 200 },
      {
        request: emitRequest(body, { headers: 'Idempotency-Key: a key with spaces\r\n' }),
        status: 400,
        code: 'VALIDATION_FAILED',
      },
      {
        request: emitRequest(
          `{"userId":"${SOME_USER}","eventType":"x","data":{"a":"${'x'.repeat(MAX_EVENT_BYTES)}"}}`,
        ),
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
      },
      {
        request: Buffer.from(
          emitRequest(body)
            .toString()
            .replace('Content-Type: application/json', 'Content-Type: text/plain'),
        ),
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
      },
      {
        request: Buffer.from(
          emitRequest(body).toString().replace(TEST_SERVICE_TOKEN, 'wrong-token'),
        ),
        status: 403,
        code: 'SERVICE_TOKEN_INVALID',
      },
    ];

    const takenBefore = server.pulse.emitFront.taken;
    for (const { request, status, code } of handedOn) {
      const answer = await rawExchange(server.url, request);
      assert.equal(answer.status, status, answer.body);
      if (code) assert.equal(JSON.parse(answer.body).code, code);
    }
    assert.equal(server.pulse.emitFront.taken, takenBefore);
  });

  test('counts and logs its refusals as the rest of Pulse does, without the token', async () => {
    const linesBefore = server.logLines.length;
    const answer = await rawExchange(server.url, emitRequest('not json'));

    assert.equal(answer.status, 400);
    const lines = server.logLines.slice(linesBefore).map((line) => JSON.parse(line));
    const rejected = lines.find((line) => line.msg === 'request rejected');
    assert.ok(rejected, JSON.stringify(lines));
    assert.equal(rejected.statusCode, 400);
    assert.equal(rejected.url, '/api/events/emit');
    assert.match(rejected.reqId, /^emit-/);
    assert.ok(!server.logLines.some((line) => line.includes(TEST_SERVICE_TOKEN)));
    assert.ok(server.pulse.context.rejections.snapshot().INVALID_JSON! >= 1);
  });

  test('delivers pipelined emits in order and answers them in order', async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
    // Every other one chunked, so Fastify has it: the front must not let the next overtake it.
    const seqs = Array.from({ length: 20 }, (_, index) => index + 1);
    const requests = seqs.map((seq) => {
      const body = JSON.stringify({ userId: user.id, eventType: 'seq', data: { seq } });
      const last = seq === seqs.length ? 'Connection: close\r\n' : '';
      return emitRequest(body, { chunked: seq % 2 === 0, headers: last });
    });

    const answer = await rawExchangeText(server.url, Buffer.concat(requests));
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => match[1]);
    assert.deepEqual(
      statuses,
      seqs.map(() => '200'),
    );

    const frames = await stream.waitFor((frame) => frame.event === 'seq', seqs.length);
    assert.deepEqual(
      frames.map((frame) => frame.json.data.seq),
      seqs,
    );
    stream.close();
  });

  test('drops a body cut short without an answer, and keeps serving', async () => {
    const takenBefore = server.pulse.emitFront.taken;
    const whole = emitRequest(event({ data: { cut: true } }));
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(whole.subarray(0, whole.length - 10));
    await waitFor(
      () => server.pulse.emitFront.taken,
      (taken) => taken === takenBefore + 1,
    );
    socket.destroy();

    const after = await rawExchange(server.url, emitRequest(event({})));
    assert.equal(after.status, 200);
  });
});

describe('the emit front when emitting fails unexpectedly', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
    // Whatever is thrown, even a value that is not an Error, is answered and survived.
    server.pulse.context.events.emit = async () => {
      throw undefined;
    };
  });

  after(async () => {
    await server.stop();
  });

  test('answers INTERNAL_ERROR both ways and keeps serving', async () => {
    const body = JSON.stringify({ userId: SOME_USER, eventType: 'x', data: {} });
    const front = await rawExchange(server.url, emitRequest(body));
    const fastify = await rawExchange(server.url, emitRequest(body, { chunked: true }));

    assert.equal(server.pulse.emitFront.taken, 1);
    assert.deepEqual(comparable(front), comparable(fastify));
    assert.equal(front.status, 500);
    assert.equal(JSON.parse(front.body).code, 'INTERNAL_ERROR');
    const health = await rawExchange(server.url, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(health.status, 200);
  });
});

describe('the emit front with CORS on', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ CORS_ORIGINS: 'http://app.example' });
  });

  after(async () => {
    await server.stop();
  });

  test('takes nothing, so every answer carries the CORS headers', async () => {
    const request = emitRequest(JSON.stringify({ userId: SOME_USER, eventType: 'x', data: {} }), {
      headers: 'Origin: http://app.example\r\n',
    });
    const answer = await rawExchange(server.url, request);

    assert.equal(answer.status, 200);
    assert.ok(answer.headers.some(([name]) => name === 'access-control-allow-origin'));
    assert.equal(server.pulse.emitFront.taken, 0);
  });
});

async function rawExchangeText(serverUrl: string, text: string | Buffer): Promise<string> {
  const socket = connect(Number(new URL(serverUrl).port), '127.0.0.1');
  let received = '';
  socket.on('data', (part: Buffer) => (received += part.toString('utf8')));
  socket.write(text);
  await new Promise((resolve) => socket.once('close', resolve));

  return received;
}
