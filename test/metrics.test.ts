import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openRawStream } from './support/raw-stream.js';
import { call, emit, registerUser, startTestServer, type TestServer } from './support/server.js';

function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}${labels} `));

  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('/metrics', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ METRICS_ENABLED: 'true' });
  });

  after(async () => {
    await server.stop();
  });

  test('moves its counters with traffic', async () => {
    const before = await (await fetch(`${server.url}/metrics`)).text();
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, user);
    await stream.waitFor((frame) => frame.event === 'connected');
    for (let index = 0; index < 3; index += 1) {
      await emit(server.url, { userId: user.id, eventType: 'metrics:updated', data: { index } });
    }
    await stream.waitFor((frame) => frame.event === 'metrics:updated', 3);
    await emit(server.url, { userId: user.id, eventType: 'x', data: {} }, 'wrong-token');
    await call(`${server.url}/api/events/stream`);

    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();
    stream.close();

    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    assert.equal(sample(before, 'pulse_streams_open'), 0);
    assert.equal(sample(text, 'pulse_streams_open'), 1);
    assert.equal(sample(text, 'pulse_streams_opened_total'), 1);
    assert.equal(sample(text, 'pulse_events_emitted_total', '{type="metrics:updated"}'), 3);
    assert.equal(sample(text, 'pulse_events_delivered_total', '{type="metrics:updated"}'), 3);
    assert.equal(sample(text, 'pulse_events_delivered_total', '{type="connected"}'), 1);
    assert.ok(sample(text, 'pulse_bytes_written_total')! > 0);
    assert.equal(
      sample(text, 'pulse_requests_rejected_total', '{code="SERVICE_TOKEN_INVALID"}'),
      1,
    );
    assert.equal(sample(text, 'pulse_requests_rejected_total', '{code="TOKEN_MISSING"}'), 1);
    assert.equal(sample(text, 'pulse_emit_to_write_seconds_count'), 3);
    assert.equal(sample(text, 'pulse_history_events'), 3);
    assert.equal(sample(text, 'pulse_slow_consumers_dropped_total'), 0);
    assert.notEqual(sample(text, 'pulse_process_nodejs_eventloop_lag_seconds'), undefined);
  });

  test('counts closed streams by reason', async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, user);
    await stream.waitFor((frame) => frame.event === 'connected');
    stream.close();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const text = await (await fetch(`${server.url}/metrics`)).text();

    assert.ok(sample(text, 'pulse_streams_closed_total', '{reason="client_closed"}')! >= 1);
  });
});

describe('/metrics on its own port', () => {
  test('is served on METRICS_PORT and not on the API port', async () => {
    const probe = await startTestServer();
    const freePort = Number(new URL(probe.url).port);
    await probe.stop();

    const server = await startTestServer({ METRICS_PORT: String(freePort) });
    try {
      const own = await fetch(`http://127.0.0.1:${freePort}/metrics`);
      const api = await fetch(`${server.url}/metrics`);

      assert.equal(own.status, 200);
      assert.match(await own.text(), /pulse_streams_open 0/);
      assert.equal(api.status, 404);
    } finally {
      await server.stop();
    }
  });

  test('is off by default', async () => {
    const server = await startTestServer();
    try {
      assert.equal((await fetch(`${server.url}/metrics`)).status, 404);
    } finally {
      await server.stop();
    }
  });
});
