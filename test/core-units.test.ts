import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import { Deadlines } from '../src/core/deadlines.js';
import { parseEventFilter } from '../src/core/event-filter.js';
import { RateLimiter } from '../src/core/rate-limiter.js';
import { RecentDeletions } from '../src/core/recent-deletions.js';
import { TicketBook } from '../src/core/tickets.js';

describe('Deadlines', () => {
  test('runs deadlines in time order on one timer, and not cancelled ones', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000_000 });
    const deadlines = new Deadlines();
    const ran: string[] = [];

    deadlines.schedule(1_000_300, () => ran.push('c'));
    deadlines.schedule(1_000_100, () => ran.push('a'));
    const cancelled = deadlines.schedule(1_000_200, () => ran.push('cancelled'));
    deadlines.schedule(1_000_200, () => ran.push('b'));
    deadlines.cancel(cancelled);
    assert.equal(deadlines.size, 3);

    t.mock.timers.tick(150);
    assert.deepEqual(ran, ['a']);
    t.mock.timers.tick(200);
    assert.deepEqual(ran, ['a', 'b', 'c']);
    assert.equal(deadlines.size, 0);
  });

  test('keeps the heap ordered through many schedules and cancels', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const deadlines = new Deadlines();
    const ran: number[] = [];
    const handles = [];
    for (let index = 0; index < 200; index += 1) {
      const at = (index * 7919) % 1000;
      handles.push({ at, handle: deadlines.schedule(at, () => ran.push(at)) });
    }
    const kept = handles.filter((_, index) => index % 3 !== 0);
    for (const [index, { handle }] of handles.entries()) {
      if (index % 3 === 0) deadlines.cancel(handle);
    }

    t.mock.timers.tick(1000);

    assert.deepEqual(
      ran,
      kept.map(({ at }) => at).sort((a, b) => a - b),
    );
  });

  test('clears everything, leaving no timer', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
    const deadlines = new Deadlines();
    const run = mock.fn();
    deadlines.schedule(10, run);

    deadlines.clear();
    t.mock.timers.tick(100);

    assert.equal(run.mock.callCount(), 0);
    assert.equal(deadlines.size, 0);
  });
});

describe('RecentDeletions', () => {
  test('remembers a deletion for a minute', () => {
    const deletions = new RecentDeletions();

    deletions.note('a', 1_000);

    assert.equal(deletions.has('a', 1_000), true);
    assert.equal(deletions.has('a', 60_999), true);
    assert.equal(deletions.has('a', 61_000), false);
    assert.equal(deletions.has('b', 1_000), false);
  });

  test('forgets the oldest first, past the minute or past 10,000', () => {
    const deletions = new RecentDeletions();
    for (let index = 0; index < 10_005; index += 1) deletions.note(`user-${index}`, index);

    assert.equal(deletions.size, 10_000);
    assert.equal(deletions.has('user-4', 10_005), false);
    assert.equal(deletions.has('user-5', 10_005), true);

    deletions.note('late', 80_000);
    assert.equal(deletions.size, 1, 'everything older than a minute went');
    assert.equal(deletions.has('late', 80_000), true);
  });
});

describe('RateLimiter', () => {
  test('allows the limit per key per window, then says how long to wait', () => {
    const limiter = new RateLimiter(2);

    assert.equal(limiter.hit('a', 10_000).allowed, true);
    assert.equal(limiter.hit('a', 10_100).allowed, true);
    const third = limiter.hit('a', 10_200);
    assert.equal(third.allowed, false);
    assert.equal(third.retryAfterSeconds, 1);
    assert.equal(limiter.hit('b', 10_300).allowed, true, 'other keys are apart');
    assert.equal(limiter.hit('a', 11_000).allowed, true, 'a new window starts afresh');
  });

  test('is off at 0', () => {
    const limiter = new RateLimiter(0);
    for (let index = 0; index < 1000; index += 1) assert.equal(limiter.hit('a').allowed, true);
  });
});

describe('TicketBook', () => {
  test('redeems a ticket once, and not after it expires', () => {
    const book = new TicketBook(60_000, 10, 5);
    const holder = { userId: 'u', tokenExpiresAt: 123 };
    const first = book.issue(holder, 0);
    const second = book.issue(holder, 0);

    assert.deepEqual(book.redeem(first, 59_999), holder);
    assert.equal(book.redeem(first, 59_999), undefined, 'single use');
    assert.equal(book.redeem(second, 60_000), undefined, 'expired');
  });

  test('caps the tickets outstanding, in all and per user', () => {
    const book = new TicketBook(60_000, 3, 2);
    const holder = (userId: string) => ({ userId, tokenExpiresAt: undefined });

    assert.equal(book.issue(holder('u'), 0).length, 32);
    assert.equal(book.issue(holder('u'), 0).length, 32);
    assert.equal(book.issue(holder('u'), 0), 'user-limit');
    assert.equal(book.issue(holder('v'), 0).length, 32);
    assert.equal(book.issue(holder('w'), 0), 'full');
    assert.equal(book.issue(holder('u'), 60_000).length, 32, 'expired ones go');
  });
});

describe('event filters', () => {
  test('match exact types and prefixes, and always let control events through', () => {
    const filter = parseEventFilter('metrics:updated, analytics:*');
    assert.equal(typeof filter, 'function');
    const accepts = filter as (type: string) => boolean;

    assert.equal(accepts('metrics:updated'), true);
    assert.equal(accepts('metrics:deleted'), false);
    assert.equal(accepts('analytics:batch_update'), true);
    assert.equal(accepts('heartbeat'), true);
    assert.equal(accepts('sync:required'), true);
  });

  test('refuse empty, malformed and over-long lists with a message', () => {
    for (const text of ['', 'a,,b', 'bad type', 'x*y', Array(33).fill('a').join(',')]) {
      assert.equal(typeof parseEventFilter(text), 'string', JSON.stringify(text));
    }
  });
});
