import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asksToClose } from '../src/http/stream-head.js';
import { readStreamRequest } from '../src/http/stream-request.js';

const LIMIT = 16 * 1024;

function read(text: string) {
  return readStreamRequest(Buffer.from(text, 'latin1'), LIMIT);
}

function request(target: string, headers = 'Host: a\r\n', version = 'HTTP/1.1'): string {
  return `GET ${target} ${version}\r\n${headers}\r\n`;
}

describe('reading a plain stream request', () => {
  test('reads the token, resume point and filter of a whole request', () => {
    const plain = read(
      request(
        '/api/events/stream?token=t.k.n&events=a%2Cb%3A*&lastEventId=12&x=1',
        'Host: a\r\nAuthorization: Bearer abc\r\nLast-Event-ID: 7\r\nConnection: close\r\n',
      ),
    );

    assert.deepEqual(plain, {
      authorization: 'Bearer abc',
      lastEventId: '7',
      connection: 'close',
      query: { token: 't.k.n', events: 'a,b:*', lastEventId: '12' },
    });
  });

  test('reads `+` in the query as a space and trims header values', () => {
    const headers = 'Host: a\r\nLast-Event-ID: \t 5 \t\r\n';
    const plain = read(request('/api/events/stream?events=a+b', headers));

    assert.equal(plain?.query.events, 'a b');
    assert.equal(plain?.lastEventId, '5');
  });

  const handedOn: [string, string][] = [
    ['another path', request('/api/events/streams')],
    ['a trailing slash', request('/api/events/stream/')],
    ['another method', 'POST /api/events/stream HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['HEAD', 'HEAD /api/events/stream HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a lower-case method', 'get /api/events/stream HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['HTTP/1.0', request('/api/events/stream', 'Host: a\r\n', 'HTTP/1.0')],
    ['no Host', request('/api/events/stream', 'Accept: */*\r\n')],
    ['two Hosts', request('/api/events/stream', 'Host: a\r\nHost: b\r\n')],
    [
      'two Authorizations',
      request('/api/events/stream', 'Host: a\r\nAuthorization: x\r\nauthorization: y\r\n'),
    ],
    ['a body length', request('/api/events/stream', 'Host: a\r\nContent-Length: 0\r\n')],
    [
      'a transfer coding',
      request('/api/events/stream', 'Host: a\r\nTransfer-Encoding: chunked\r\n'),
    ],
    ['an upgrade', request('/api/events/stream', 'Host: a\r\nUpgrade: websocket\r\n')],
    ['an expectation', request('/api/events/stream', 'Host: a\r\nExpect: 100-continue\r\n')],
    ['a folded header', request('/api/events/stream', 'Host: a\r\nX-A: b\r\n c\r\n')],
    ['a bare LF', request('/api/events/stream', 'Host: a\nX-A: b\r\n')],
    ['a NUL in a value', request('/api/events/stream', 'Host: a\r\nX-A: b\u0000c\r\n')],
    ['a space before the colon', request('/api/events/stream', 'Host: a\r\nX-A : b\r\n')],
    ['a space in the target', 'GET /api/events/stream?a=b c HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a key given twice', request('/api/events/stream?token=a&token=b')],
    ['a broken escape', request('/api/events/stream?token=%E0%A4%A')],
    ['a second request behind it', request('/api/events/stream') + request('/healthz')],
    ['a head cut short', 'GET /api/events/stream HTTP/1.1\r\nHost: a\r\n'],
  ];
  for (const [what, text] of handedOn) {
    test(`hands on a request with ${what}`, () => {
      assert.equal(read(text), undefined);
    });
  }

  // node:http drops header lines past its count limit; none of them may count here either.
  test('hands on a head with more header lines than a browser sends', () => {
    const filler = Array.from({ length: 120 }, (_, index) => `X-${index}: y\r\n`).join('');
    const head = request('/api/events/stream', `${filler}Host: a\r\nAuthorization: Bearer t\r\n`);

    assert.equal(read(head), undefined);
  });

  test('hands on a head longer than the limit', () => {
    const text = request('/api/events/stream', `Host: a\r\nX-Pad: ${'p'.repeat(200)}\r\n`);

    assert.notEqual(readStreamRequest(Buffer.from(text), 1024), undefined);
    assert.equal(readStreamRequest(Buffer.from(text), 100), undefined);
  });
});

describe('reading header values', () => {
  // Trimmed by a loop: a regular expression for trailing blanks backtracks quadratically on a
  // value like this one, which fits well inside the 16 KiB a head may have.
  test('trims the blanks around a value and keeps those inside it', () => {
    const blanks = ' \t'.repeat(2000);
    const text = request(
      '/api/events/stream',
      `Host: a\r\nAuthorization: ${blanks}a${blanks}b${blanks}\r\n`,
    );

    assert.equal(read(text)?.authorization, `a${blanks}b`);
  });
});

describe('a request asking to close its connection', () => {
  test('is told by the close option, in any case and place of the list', () => {
    for (const value of ['close', 'Close', 'keep-alive, close', 'close ,upgrade', ' \tclose']) {
      assert.equal(asksToClose(value), true, value);
    }
    for (const value of [undefined, '', 'keep-alive', 'closed', 'upgrade', 'not-close']) {
      assert.equal(asksToClose(value), false, String(value));
    }
  });
});
