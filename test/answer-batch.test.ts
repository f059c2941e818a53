import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { AnswerBatch } from '../src/http/answer-batch.js';

test('answers leave together after the turn; a cut-off one does not stop the rest', async () => {
  const batch = new AnswerBatch(pino({ level: 'silent' }));
  const sentAtOnce: boolean[] = [];
  const held: ServerResponse[] = [];
  const server = createServer((request, response) => {
    const body = JSON.stringify({ path: request.url });
    batch.send(response, 200, { 'content-length': Buffer.byteLength(body) }, body);
    sentAtOnce.push(response.headersSent);
    held.push(response);
    // The second request's connection is cut before its answer leaves.
    if (request.url === '/cut') response.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  try {
    const answers = await Promise.allSettled(
      ['/a', '/cut', '/b'].map(async (path) => (await fetch(base + path)).json()),
    );

    assert.deepEqual(sentAtOnce, [false, false, false], 'nothing is written during the turn');
    assert.deepEqual(answers[0], { status: 'fulfilled', value: { path: '/a' } });
    assert.equal(answers[1]!.status, 'rejected');
    assert.deepEqual(answers[2], { status: 'fulfilled', value: { path: '/b' } });
    assert.ok(held.every((response) => response.writableEnded || response.destroyed));
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
