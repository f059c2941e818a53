import { request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

/** One event as read off the wire. */
export interface Frame {
  id?: string;
  event: string;
  data: string;
  retry?: number;
  json: any;
}

/**
 * A stream read over raw HTTP, so tests see exactly the framing and headers Pulse sends.
 * Frames are parsed as the event-stream format says: fields until a blank line.
 */
export class RawStream {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly frames: Frame[] = [];
  /** Everything received, as text. */
  raw = '';
  ended = false;
  #response: IncomingMessage;
  #buffer = '';
  #waiters = new Set<() => void>();

  constructor(response: IncomingMessage) {
    this.#response = response;
    this.status = response.statusCode ?? 0;
    this.headers = response.headers;

    response.setEncoding('utf8');
    response.on('data', (chunk: string) => this.#receive(chunk));
    response.on('close', () => {
      this.ended = true;
      this.#wake();
    });
    response.on('error', () => undefined);
  }

  /** Frames of one event type. */
  ofType(event: string): Frame[] {
    return this.frames.filter((frame) => frame.event === event);
  }

  /** Waits until `count` frames match, or fails after `timeoutMs`. */
  async waitFor(match: (frame: Frame) => boolean, count = 1, timeoutMs = 3000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.filter(match);
      if (found.length >= count) return found;
      if (this.ended) throw new Error(`stream ended with ${found.length}/${count} frames`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${found.length}/${count} frames`);
      await this.#nextChange(left);
    }
  }

  /** Waits for the server to end the stream. */
  async waitForEnd(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('stream did not end in time');
      await this.#nextChange(left);
    }
  }

  /** Stops reading: the client then behaves like one that never reads its socket. */
  pause(): void {
    this.#response.pause();
  }

  /** Reads again, starting with whatever the kernel and Node buffered meanwhile. */
  resume(): void {
    this.#response.resume();
  }

  /** Drops the connection from the client side. */
  close(): void {
    this.#response.destroy();
  }

  #nextChange(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.#waiters;
      function done() {
        clearTimeout(timer);
        waiters.delete(done);
        resolve();
      }
      waiters.add(done);
    });
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }

  #receive(chunk: string): void {
    this.raw += chunk;
    this.#buffer += chunk;

    let end = this.#buffer.indexOf('\n\n');
    while (end !== -1) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      const frame = parseBlock(block);
      if (frame) this.frames.push(frame);
      end = this.#buffer.indexOf('\n\n');
    }
    this.#wake();
  }
}

function parseBlock(block: string): Frame | undefined {
  const fields: Record<string, string> = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const name = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    fields[name] = name in fields && name === 'data' ? `${fields[name]}\n${value}` : value;
  }
  if (fields.data === undefined) {
    return fields.retry === undefined
      ? undefined
      : { event: '', data: '', retry: Number(fields.retry), json: undefined };
  }

  return {
    id: fields.id,
    event: fields.event ?? 'message',
    data: fields.data,
    retry: fields.retry === undefined ? undefined : Number(fields.retry),
    json: JSON.parse(fields.data),
  };
}

/** Opens a stream; resolves once the response headers arrive (whatever the status). */
export function openRawStream(
  url: string,
  options: { token?: string; headers?: Record<string, string> } = {},
): Promise<RawStream> {
  const headers: Record<string, string> = { accept: 'text/event-stream', ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;

  return new Promise((resolve, reject) => {
    const outgoing = request(url, { headers, agent: false }, (response) => {
      resolve(new RawStream(response));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
