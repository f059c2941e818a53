import { openRawStream, type Frame, type RawStream } from './raw-stream.js';

/**
 * A client that does what a well-behaved browser does: remembers the last event id it
 * processed and sends it as `Last-Event-ID` when it reconnects.
 */
export class ResumingClient {
  readonly received: Frame[] = [];
  readonly connects: Frame[] = [];
  lastEventId: string | undefined;
  #stream: RawStream | undefined;
  #seen = 0;

  constructor(
    private readonly url: string,
    private readonly token: string,
    private readonly query = '',
  ) {}

  /** Events received, in order, without control frames. */
  get events(): Frame[] {
    this.#collect();
    return this.received;
  }

  /** Opens (or re-opens) the stream, resuming after the last id seen. */
  async connect(): Promise<void> {
    this.#collect();
    const headers: Record<string, string> = {};
    if (this.lastEventId) headers['last-event-id'] = this.lastEventId;
    const path = `${this.url}/api/events/stream${this.query}`;

    this.#stream = await openRawStream(path, { token: this.token, headers });
    this.#seen = 0;
    if (this.#stream.status !== 200) throw new Error(`stream answered ${this.#stream.status}`);
    await this.#stream.waitFor((frame) => frame.event === 'connected');
    this.#collect();
  }

  /** Drops the connection, keeping what was received. */
  drop(): void {
    this.#collect();
    this.#stream?.close();
    this.#stream = undefined;
  }

  /** Waits until `count` events have arrived. */
  async waitForEvents(count: number, timeoutMs = 5000): Promise<Frame[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.events.length < count) {
      if (Date.now() > deadline) {
        throw new Error(`timed out with ${this.events.length}/${count} events`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    return this.events;
  }

  // Moves frames from the current connection into `received`, tracking the last id.
  #collect(): void {
    const stream = this.#stream;
    if (!stream) return;

    for (; this.#seen < stream.frames.length; this.#seen += 1) {
      const frame = stream.frames[this.#seen]!;
      if (frame.id !== undefined) this.lastEventId = frame.id;
      if (frame.event === 'connected') this.connects.push(frame);
      else if (frame.id !== undefined && frame.event !== 'sync:required') this.received.push(frame);
    }
  }
}
