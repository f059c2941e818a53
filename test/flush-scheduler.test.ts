import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FlushScheduler, type Flushable } from '../src/core/flush-scheduler.js';

// A scheduler on a hand-driven clock: each flush takes `flushMs`, and deferred slices run only
// when the test says so, so every yield is visible.
function harness(flushMs = 0) {
  let clock = 0;
  const deferred: (() => void)[] = [];
  const scheduler = new FlushScheduler({
    now: () => clock,
    defer: (task) => deferred.push(task),
    sliceMs: 4,
  });
  const flushed: number[] = [];
  const stream = (id: number): Flushable => ({
    flush() {
      clock += flushMs;
      flushed.push(id);
    },
  });
  const runNext = () => {
    const task = deferred.shift();
    assert.ok(task, 'a slice is scheduled');
    task();
  };

  return { scheduler, flushed, stream, runNext, deferred };
}

describe('flush scheduler', () => {
  test('flushes a stream once after the current turn, however often it was marked', () => {
    const { scheduler, flushed, stream, runNext, deferred } = harness();
    const [a, b] = [stream(1), stream(2)];

    scheduler.mark(a);
    scheduler.mark(b);
    scheduler.mark(a);
    assert.deepEqual(flushed, [], 'nothing is written in the turn that queued it');
    assert.equal(deferred.length, 1, 'one run, not one per mark');

    runNext();
    assert.deepEqual(flushed, [1, 2]);
    assert.equal(scheduler.pending, 0);
    assert.equal(deferred.length, 0, 'an idle scheduler holds nothing scheduled');
  });

  test('yields to the event loop after a slice and carries on where it stopped', () => {
    const { scheduler, flushed, stream, runNext, deferred } = harness(0.05);
    for (let id = 0; id < 300; id += 1) scheduler.mark(stream(id));

    // 64 flushes of 0.05 ms between clock reads: 3.2 ms, then 6.4 ms, past the 4 ms slice.
    runNext();
    assert.equal(flushed.length, 128);
    assert.equal(deferred.length, 1, 'the rest waits for the next turn');

    runNext();
    runNext();
    assert.equal(flushed.length, 300);
    assert.deepEqual(flushed, [...Array(300).keys()], 'in the order they were marked');
    assert.equal(deferred.length, 0);
  });

  test('a stream marked again after its write comes round later in the same run', () => {
    const { scheduler, flushed, stream, runNext } = harness(0.05);
    const streams = Array.from({ length: 200 }, (_, id) => stream(id));
    for (const item of streams) scheduler.mark(item);

    runNext();
    const writtenFirst = flushed.length;
    scheduler.mark(streams[0] as Flushable);
    scheduler.mark(streams[199] as Flushable);
    while (scheduler.pending > 0) runNext();

    assert.equal(flushed.filter((id) => id === 0).length, 2, 'written again: it had new output');
    assert.equal(flushed.filter((id) => id === 199).length, 1, 'not yet written: still once');
    assert.equal(flushed.at(-1), 0, 'after the streams that were waiting already');
    assert.ok(writtenFirst < 200);
  });

  test('forgets a stream that ended before its turn', () => {
    const { scheduler, flushed, stream, runNext } = harness();
    const [a, b] = [stream(1), stream(2)];
    scheduler.mark(a);
    scheduler.mark(b);
    scheduler.forget(a);

    runNext();
    assert.deepEqual(flushed, [2]);
  });
});
