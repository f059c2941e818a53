import type { KeySource } from './protocol.js';

/** What a reader tells its stream about. */
export interface ReaderEvents {
  /** The response head was not 200, or the body could not be framed. */
  onFailure(reason: string): void;
  /** A frame of the server's own: `connected` first, then heartbeats. */
  onControlFrame(): void;
  /** An emitted event: its key and its emitter's `data.sentAt` (NaN when absent). */
  onEvent(key: number, sentAt: number): void;
}

const HEAD_END = '\r\n\r\n';
// The emitter and the ceiling send `bench:tick`; every other type is the server's own.
const BENCH_EVENT_MARK = 'event: bench:';
const SEQ_MARK = '"seq":';
const SENT_AT_MARK = '"sentAt":';

/**
 * Reads one SSE response off a raw socket, as cheaply as the load tool needs: it counts frames
 * and pulls out the key and the send time, and parses nothing else. Bytes are read as latin1
 * so that one byte is one character and HTTP chunk sizes (in bytes) line up with string
 * offsets; the markers it looks for are ASCII either way.
 */
export class SseReader {
  readonly #keyBy: KeySource;
  readonly #events: ReaderEvents;
  #inHead = true;
  #chunked = false;
  #failed = false;
  #carry = '';
  #chunkLeft = 0;
  #needChunkEnd = false;
  #frames = '';

  constructor(keyBy: KeySource, events: ReaderEvents) {
    this.#keyBy = keyBy;
    this.#events = events;
  }

  /** Takes the next bytes from the socket. */
  feed(bytes: Buffer): void {
    if (this.#failed) return;

    let text = this.#carry + bytes.toString('latin1');
    this.#carry = '';
    if (this.#inHead) {
      const end = text.indexOf(HEAD_END);
      if (end < 0) {
        this.#carry = text;
        return;
      }
      if (!this.#acceptHead(text.slice(0, end))) return;
      text = text.slice(end + HEAD_END.length);
    }

    this.#frames += this.#chunked ? this.#unchunk(text) : text;
    this.#readFrames();
  }

  #acceptHead(head: string): boolean {
    this.#inHead = false;
    const status = head.slice(0, head.indexOf('\r\n'));
    if (!/^HTTP\/1\.[01] 200 /.test(status)) return this.#fail(`answered ${status}`);

    this.#chunked = /\r\ntransfer-encoding:[ \t]*chunked/i.test(head);
    return true;
  }

  // RFC 9112 section 7.1: chunk-size in hex, optional extensions, CRLF, data, CRLF.
  #unchunk(text: string): string {
    let out = '';
    let at = 0;

    for (;;) {
      if (this.#chunkLeft > 0) {
        const take = Math.min(this.#chunkLeft, text.length - at);
        out += text.slice(at, at + take);
        at += take;
        this.#chunkLeft -= take;
        if (this.#chunkLeft > 0) break;
        this.#needChunkEnd = true;
      }
      if (this.#needChunkEnd) {
        if (text.length - at < 2) break;
        at += 2;
        this.#needChunkEnd = false;
      }

      const lineEnd = text.indexOf('\r\n', at);
      if (lineEnd < 0) break;
      const size = parseInt(text.slice(at, lineEnd), 16);
      if (!Number.isFinite(size)) {
        this.#fail('bad chunk size');
        return out;
      }
      at = lineEnd + 2;
      // The last chunk: the server ended the response; the socket's close says the rest.
      if (size === 0) return out;
      this.#chunkLeft = size;
    }

    this.#carry = text.slice(at);
    return out;
  }

  // Frames end with a blank line; Pulse, the naive server and the ceiling all use LF alone.
  #readFrames(): void {
    const text = this.#frames;
    let start = 0;

    for (;;) {
      const end = text.indexOf('\n\n', start);
      if (end < 0) break;
      this.#readFrame(text, start, end);
      start = end + 2;
    }

    this.#frames = start === 0 ? text : text.slice(start);
  }

  // Control frames may carry an id too (Pulse's `connected` gives the stream's position), so
  // frames are told apart by their type, and only benchmark events are keyed.
  #readFrame(text: string, start: number, end: number): void {
    const typeAt = text.indexOf(BENCH_EVENT_MARK, start);
    if (typeAt < 0 || typeAt > end) {
      this.#events.onControlFrame();
      return;
    }

    const key =
      this.#keyBy === 'id' ? idOf(text, start, end) : numberAfter(text, SEQ_MARK, start, end);

    this.#events.onEvent(key, numberAfter(text, SENT_AT_MARK, start, end));
  }

  #fail(reason: string): false {
    this.#failed = true;
    this.#events.onFailure(reason);

    return false;
  }
}

// An event frame of Pulse starts with its `id:` line.
function idOf(text: string, start: number, end: number): number {
  if (!text.startsWith('id: ', start)) return Number.NaN;

  let value = 0;
  for (let at = start + 4; at < end; at += 1) {
    const digit = text.charCodeAt(at) - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }

  return value;
}

function numberAfter(text: string, mark: string, start: number, end: number): number {
  const found = text.indexOf(mark, start);
  if (found < 0 || found > end) return Number.NaN;

  const from = found + mark.length;
  let to = from;
  while (to < end) {
    const code = text.charCodeAt(to);
    if (code === 44 || code === 125) break; // ',' or '}'
    to += 1;
  }

  return Number(text.slice(from, to));
}
