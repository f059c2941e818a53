/**
 * Reads the one request the stream front answers without Node's HTTP machinery: a complete
 * `GET /api/events/stream` in HTTP/1.1, with nothing after it. Anything else, including every
 * request the strict parser of node:http would refuse, reads as `undefined` and is answered by
 * the full server instead, so this reader decides only which way a request goes, never what is
 * valid HTTP.
 */

/** The path of the event stream, the one route the front answers. */
export const STREAM_PATH = '/api/events/stream';
const REQUEST_LINE = /^GET (\/api\/events\/stream(?:\?[\x21-\x7e]*)?) HTTP\/1\.1$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Control characters other than tab; a bare LF is one of them.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

// Headers the full server must see: they bring a body, a protocol switch or an expectation.
const HANDED_ON = new Set(['content-length', 'transfer-encoding', 'upgrade', 'expect']);
const KEPT = new Set(['host', 'authorization', 'last-event-id', 'connection']);
// node:http stops reading header lines past its count limit (maxHeadersCount, 2,000 by
// default); a browser sends a dozen or two. A head with more than this goes to node:http, so no
// header can count here that node:http would drop.
const MAX_HEADER_LINES = 100;
const QUERY_KEYS = new Set(['token', 'ticket', 'lastEventId', 'events']);

/** The parts of a stream request that decide who opens what. */
export interface PlainStreamRequest {
  readonly authorization: string | undefined;
  readonly lastEventId: string | undefined;
  readonly connection: string | undefined;
  readonly query: Readonly<Partial<Record<'token' | 'ticket' | 'lastEventId' | 'events', string>>>;
}

/** The request in `bytes`, if it is a plain stream request and all of it; else undefined. */
export function readStreamRequest(
  bytes: Buffer,
  maxHeaderBytes: number,
): PlainStreamRequest | undefined {
  if (bytes.length > maxHeaderBytes) return undefined;

  const text = bytes.toString('latin1');
  if (!text.startsWith(`GET ${STREAM_PATH}`)) return undefined;
  // The head must end exactly where the bytes do: no body, no second request behind it.
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1 || headEnd !== text.length - 4) return undefined;

  const lines = text.slice(0, headEnd).split('\r\n');
  const target = REQUEST_LINE.exec(lines[0] ?? '')?.[1];
  if (target === undefined) return undefined;

  const headers = readHeaders(lines.slice(1));
  if (headers === undefined || !headers.has('host')) return undefined;

  const queryStart = target.indexOf('?');
  const query = queryStart === -1 ? {} : readQuery(target.slice(queryStart + 1));
  if (query === undefined) return undefined;

  return {
    authorization: headers.get('authorization'),
    lastEventId: headers.get('last-event-id'),
    connection: headers.get('connection'),
    query,
  };
}

function readHeaders(lines: string[]): Map<string, string> | undefined {
  if (lines.length > MAX_HEADER_LINES) return undefined;
  const kept = new Map<string, string>();

  for (const line of lines) {
    if (CONTROL.test(line)) return undefined;
    const colon = line.indexOf(':');
    if (colon === -1 || !HEADER_NAME.test(line.slice(0, colon))) return undefined;

    const name = line.slice(0, colon).toLowerCase();
    if (HANDED_ON.has(name)) return undefined;
    if (!KEPT.has(name)) continue;
    // Which of two values would count is the full server's call.
    if (kept.has(name)) return undefined;
    kept.set(name, trimSpaces(line.slice(colon + 1)));
  }

  return kept;
}

// Spaces and tabs around a header value are not part of it. A loop, not a regular expression:
// patterns for trailing blanks backtrack quadratically on long runs of them.
function trimSpaces(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isBlank(text.charCodeAt(start))) start += 1;
  while (end > start && isBlank(text.charCodeAt(end - 1))) end -= 1;

  return text.slice(start, end);
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

// `a=1&b=2` with `+` for a space and percent-escapes, as the full server reads it. A key that
// matters given twice, or an escape that does not decode, is left to the full server.
function readQuery(text: string): PlainStreamRequest['query'] | undefined {
  const query: Record<string, string> = {};
  if (text === '') return query;

  for (const pair of text.split('&')) {
    const equals = pair.indexOf('=');
    const key = decode(equals === -1 ? pair : pair.slice(0, equals));
    const value = decode(equals === -1 ? '' : pair.slice(equals + 1));
    if (key === undefined || value === undefined) return undefined;
    if (!QUERY_KEYS.has(key)) continue;
    if (Object.hasOwn(query, key)) return undefined;
    query[key] = value;
  }

  return query;
}

function decode(text: string): string | undefined {
  if (!text.includes('%') && !text.includes('+')) return text;

  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}
