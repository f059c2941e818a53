import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { createPulseClient, type MessageEventLike, type PulseClient } from '../src/client/index.js';

/** An EventSource that a test drives by hand, without any network. */
class FakeEventSource {
  static opened: FakeEventSource[] = [];
  readyState = 0;
  closed = false;
  readonly #listeners = new Map<string, ((event: MessageEventLike) => void)[]>();

  constructor(readonly url: string) {
    FakeEventSource.opened.push(this);
  }

  addEventListener(type: string, listener: (event: MessageEventLike) => void): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  close(): void {
    this.closed = true;
    this.readyState = 2;
  }

  send(type: string, data: object, lastEventId = ''): void {
    const event = { type, data: JSON.stringify({ type, timestamp: 1, ...data }), lastEventId };
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }

  fail(readyState: number): void {
    this.readyState = readyState;
    for (const listener of this.#listeners.get('error') ?? []) listener({ type: 'error' });
  }
}

// Lets promise chains (getToken, the URL) run; setImmediate is not faked.
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('client stream handling, without a network', () => {
  let client: PulseClient;
  let tokensAsked: number;
  const received: (string | undefined)[] = [];

  beforeEach(async () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    FakeEventSource.opened = [];
    received.length = 0;
    tokensAsked = 0;
    client = createPulseClient({
      baseUrl: 'http://127.0.0.1:9',
      getToken: async () => `token-${++tokensAsked}`,
      eventSource: FakeEventSource,
      useTickets: false,
      heartbeatMs: 1000,
    });
    client.on('metrics:updated', (event) => received.push(event.id));
    await settle();
  });

  afterEach(() => {
    client.close();
    mock.timers.reset();
  });

  test('drops a repeated id and resumes from the last id after a silent connection', async () => {
    const first = FakeEventSource.opened[0]!;
    first.send('connected', { resumeFrom: '100' });
    first.send('metrics:updated', { data: {} }, '101');
    first.send('metrics:updated', { data: {} }, '101');
    first.send('heartbeat', { data: {} }, '101');

    mock.timers.tick(2499);
    assert.equal(first.closed, false, 'alive within 2.5 heartbeats');
    mock.timers.tick(1);
    assert.equal(first.closed, true, 'dead after 2.5 heartbeats of silence');
    mock.timers.tick(1200);
    await settle();

    assert.deepEqual(received, ['101']);
    const second = new URL(FakeEventSource.opened[1]!.url);
    assert.equal(second.searchParams.get('lastEventId'), '101');
    assert.equal(second.searchParams.get('token'), 'token-1', 'the same token');
  });

  test('resumes from the greeting when no event came, and refreshes a refused token', async () => {
    const first = FakeEventSource.opened[0]!;
    first.send('connected', { resumeFrom: '100' });
    first.fail(0);
    mock.timers.tick(1200);
    await settle();
    const second = FakeEventSource.opened[1]!;
    assert.equal(new URL(second.url).searchParams.get('lastEventId'), '100');

    second.fail(2);
    mock.timers.tick(2400);
    await settle();

    const third = new URL(FakeEventSource.opened[2]!.url);
    assert.equal(third.searchParams.get('token'), 'token-2', 'a refusal asks for a new token');
    assert.equal(client.state, 'RECONNECTING');
  });

  test('reconnects at once with a new token after auth:expired', async () => {
    const first = FakeEventSource.opened[0]!;
    first.send('connected', { resumeFrom: '100' });
    first.send('auth:expired', { data: { expiresAt: 1, message: 'expired' } }, '100');
    mock.timers.tick(0);
    await settle();

    assert.equal(first.closed, true);
    const second = new URL(FakeEventSource.opened[1]!.url);
    assert.equal(second.searchParams.get('token'), 'token-2');
    assert.equal(second.searchParams.get('lastEventId'), '100');
  });
});
