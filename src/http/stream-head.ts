import type { OutgoingHttpHeaders } from 'node:http';
import { STREAM_HEADERS } from '../sse.js';

// What node:http allows in a header value: tabs, visible ASCII and spaces, and obs-text
// (bytes 0x80-0xff, written as latin1 as Node writes them). No CR or LF can split the head.
const SAFE_HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

let cachedDate = '';
let cachedDateSecond = -1;
// The plain head changes only with its Date, so it is rebuilt when the date string does.
let cachedPlainHead = '';
let cachedPlainHeadDate = '';

/** Tells whether a Connection header value holds the `close` option (RFC 9110 section 7.6.1). */
export function asksToClose(connection: string | undefined): boolean {
  return connection !== undefined && /(^|,)[ \t]*close[ \t]*(,|$)/i.test(connection);
}

/** How a stream's response is framed, from its request. */
export interface StreamFraming {
  /** Chunked transfer coding: HTTP/1.1. An HTTP/1.0 body ends when the connection does. */
  readonly chunked: boolean;
  /** The request said `Connection: close` (an HTTP/1.0 one always closes). */
  readonly close: boolean;
}

/**
 * The response head of a stream, written by the stream itself with its first bytes. Node would
 * add `Date` and the transfer coding; they are added here. `headers` (CORS, from hooks) come
 * first; where they name one of the stream's own headers, the stream's wins.
 */
export function streamHead(headers: OutgoingHttpHeaders, framing: StreamFraming): string {
  const own: Record<string, string> = { ...STREAM_HEADERS, Date: httpDate() };
  if (framing.close || !framing.chunked) own.Connection = 'close';
  if (framing.chunked) own['Transfer-Encoding'] = 'chunked';
  const ownNames = new Set([...Object.keys(own), 'Content-Length'].map((n) => n.toLowerCase()));

  let head = 'HTTP/1.1 200 OK\r\n';
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || ownNames.has(name.toLowerCase())) continue;
    for (const one of Array.isArray(value) ? value : [value]) head += headerLine(name, one);
  }
  for (const [name, value] of Object.entries(own)) head += headerLine(name, value);

  return `${head}\r\n`;
}

/** The head of a chunked, keep-alive stream with no headers from hooks; built once a second. */
export function plainStreamHead(): string {
  const date = httpDate();
  if (date !== cachedPlainHeadDate) {
    cachedPlainHead = streamHead({}, { chunked: true, close: false });
    cachedPlainHeadDate = date;
  }

  return cachedPlainHead;
}

function headerLine(name: string, value: string | number): string {
  const text = String(value);
  if (!SAFE_HEADER_VALUE.test(text)) throw new Error(`header ${name} has an unsafe value`);

  return `${name}: ${text}\r\n`;
}

// Computed once a second, as Node does for its own responses.
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
  }

  return cachedDate;
}
