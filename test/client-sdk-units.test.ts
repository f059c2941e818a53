import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import { baseDelay, reconnectDelay } from '../src/client/backoff.js';
import { electWithBroadcast } from '../src/client/broadcast-election.js';
import { ConnectionLifecycle } from '../src/client/connection-lifecycle.js';
import { ConnectionState } from '../src/client/event-types.js';
import { HeartbeatWatchdog } from '../src/client/heartbeat-watchdog.js';
import { RecentIds } from '../src/client/recent-ids.js';

describe('client backoff', () => {
  test('doubles from 1 s and stops at 32 s', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 10].map((attempt) => baseDelay(attempt) / 1000);

    assert.deepEqual(delays, [1, 2, 4, 8, 16, 32, 32, 32]);
  });

  test('moves each delay by at most a fifth either way', () => {
    assert.equal(
      reconnectDelay(3, () => 0),
      3200,
    );
    assert.equal(
      reconnectDelay(3, () => 0.5),
      4000,
    );
    assert.equal(
      reconnectDelay(3, () => 0.999_999),
      4800,
    );
  });
});

describe('client connection lifecycle', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  function lifecycle(maxFailedReconnects?: number) {
    const states: ConnectionState[] = [];
    let attempts = 0;
    const machine = new ConnectionLifecycle({
      connect: () => (attempts += 1),
      onStateChange: (state) => states.push(state),
      random: () => 0.5,
      maxFailedReconnects,
    });

    return { machine, states, attempts: () => attempts };
  }

  test('goes through the states of a first connect, a drop and a reconnect', () => {
    const { machine, states } = lifecycle();

    machine.start();
    machine.opened();
    machine.lost();
    mock.timers.tick(1000);
    machine.opened();

    assert.deepEqual(states, [
      'CONNECTING',
      'CONNECTED',
      'DISCONNECTED',
      'RECONNECTING',
      'CONNECTED',
    ]);
  });

  test('waits 1, 2, 4, 8, 16, 32, 32 s between failed attempts', () => {
    const { machine, attempts } = lifecycle();
    machine.start();
    const waits: number[] = [];

    for (let failure = 0; failure < 7; failure += 1) {
      machine.lost();
      const delay = machine.nextDelayMs!;
      const before = attempts();
      mock.timers.tick(delay - 1);
      assert.equal(attempts(), before, 'not before the delay');
      mock.timers.tick(1);
      assert.equal(attempts(), before + 1, 'at the delay');
      waits.push(delay / 1000);
    }

    assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 32]);
  });

  test('stops in ERROR after 10 failed reconnects in a row, until reconnect is asked for', () => {
    const { machine, states, attempts } = lifecycle();
    machine.start();

    for (let failure = 0; failure < 10; failure += 1) {
      machine.lost();
      mock.timers.tick(machine.nextDelayMs!);
    }
    assert.equal(attempts(), 11);
    assert.equal(machine.state, 'RECONNECTING');
    machine.lost();
    mock.timers.tick(60_000);

    assert.equal(machine.state, 'ERROR');
    assert.equal(attempts(), 11, 'no attempt after ERROR');
    machine.reconnectNow();
    assert.equal(attempts(), 12);
    assert.equal(states.at(-1), 'CONNECTING');
  });

  test('starts the backoff over after a connection stayed up for a while', () => {
    const { machine } = lifecycle();
    machine.start();
    for (let failure = 0; failure < 4; failure += 1) {
      machine.lost();
      mock.timers.tick(machine.nextDelayMs!);
    }

    machine.opened();
    mock.timers.tick(1000);
    machine.lost();
    assert.equal(machine.nextDelayMs, 16_000, 'a short-lived connection does not reset it');
    mock.timers.tick(16_000);
    machine.opened();
    mock.timers.tick(5000);
    machine.lost();

    assert.equal(machine.nextDelayMs, 1000);
  });

  test('reconnects at once when asked to, and never again once stopped', () => {
    const { machine, attempts } = lifecycle();
    machine.start();
    machine.opened();

    machine.lost({ immediate: true });
    mock.timers.tick(0);
    assert.equal(attempts(), 2);
    machine.stop();
    machine.lost();
    mock.timers.tick(60_000);

    assert.equal(attempts(), 2);
    assert.equal(machine.state, 'DISCONNECTED');
  });
});

describe('client heartbeat watchdog', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout', 'Date'] }));
  afterEach(() => mock.timers.reset());

  test('declares the connection dead after 2.5 silent heartbeat intervals', () => {
    let dead = 0;
    const watchdog = new HeartbeatWatchdog(1000, () => (dead += 1));
    watchdog.start();

    mock.timers.tick(2000);
    watchdog.alive(true);
    mock.timers.tick(2499);
    assert.equal(dead, 0);
    mock.timers.tick(1);

    assert.equal(dead, 1);
  });

  test('learns a slower server interval from the gap between heartbeats', () => {
    let dead = 0;
    const watchdog = new HeartbeatWatchdog(1000, () => (dead += 1));
    watchdog.start();

    watchdog.alive(true);
    mock.timers.tick(2000);
    watchdog.alive(true);
    assert.equal(watchdog.intervalMs, 2000);
    mock.timers.tick(4999);
    assert.equal(dead, 0);
    watchdog.stop();
  });
});

describe('client de-duplication', () => {
  test('remembers the last 50 ids, dropping the least recently seen', () => {
    const recent = new RecentIds();
    for (let id = 1; id <= 50; id += 1) assert.equal(recent.add(String(id)), true);

    assert.equal(recent.add('1'), false, 'a duplicate, and now the most recent');
    recent.add('51');

    assert.equal(recent.size, 50);
    assert.equal(recent.has('2'), false, 'the stalest went');
    assert.equal(recent.has('1'), true);
  });

  test('forgets an id 60 seconds after it was seen', () => {
    let now = 0;
    const recent = new RecentIds(50, 60_000, () => now);
    recent.add('a');

    now = 59_999;
    assert.equal(recent.has('a'), true);
    now = 59_999 + 60_000;

    assert.equal(recent.add('a'), true, 'seen again as new');
  });
});

describe('client tab election over BroadcastChannel', () => {
  test('elects one leader among three tabs, and another when it resigns', async () => {
    const name = `election-test-${Date.now()}`;
    const elected: number[] = [];
    const timings = { heartbeatMs: 40 };
    const tabs = [0, 1, 2].map((tab) =>
      electWithBroadcast(
        name,
        {
          elected: () => elected.push(tab),
          deposed: () => elected.splice(elected.indexOf(tab), 1),
        },
        timings,
      ),
    );
    try {
      await waitUntil(() => elected.length > 0, 2000);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(elected.length, 1, `leaders: ${elected.join(',')}`);

      const first = elected[0]!;
      tabs[first]!.resign();
      elected.length = 0;
      await waitUntil(() => elected.length > 0, 2000);
      await new Promise((resolve) => setTimeout(resolve, 300));

      assert.equal(elected.length, 1);
      assert.notEqual(elected[0], first);
    } finally {
      for (const tab of tabs) tab.resign();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
