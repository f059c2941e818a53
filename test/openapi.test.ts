import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { startTestServer, type TestServer } from './support/server.js';

describe('the OpenAPI description', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.stop();
  });

  test('is a valid OpenAPI 3.1 document generated from the routes', async () => {
    const response = await fetch(`${server.url}/api/docs/openapi.json`);
    const document = await response.json();

    const result = await new Validator().validate(document);

    assert.equal(response.status, 200);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(document.openapi, '3.1.0');
    for (const path of [
      '/api/events/emit',
      '/api/events/emit/batch',
      '/api/events/stream',
      '/api/events/ticket',
      '/api/auth/register',
    ]) {
      assert.ok(document.paths[path], `${path} is described`);
    }
    const emit = document.paths['/api/events/emit'].post;
    assert.deepEqual(emit.requestBody.content['application/json'].schema.required, [
      'userId',
      'eventType',
      'data',
    ]);
    assert.deepEqual(emit.security, [{ serviceToken: [] }]);
  });

  test('has readable docs at /api/docs', async () => {
    const response = await fetch(`${server.url}/api/docs/`);
    const html = await response.text();

    assert.equal(response.status, 200);
    assert.match(html, /swagger/i);
  });
});
