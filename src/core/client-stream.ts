import type { ServerResponse } from 'node:http';
import type { EncodedFrame } from '../sse.js';
import { acceptAll, type EventFilter } from './event-filter.js';
import { flushScheduler } from './flush-scheduler.js';

/** Why a stream ended; used in logs and counters. */
export type CloseReason =
  'client_closed' | 'user_deleted' | 'slow_consumer' | 'token_expired' | 'shutdown' | 'write_error';

/** What a stream needs from its owner. */
export interface ClientStreamOptions {
  /** Past this many unsent bytes the client is not keeping up and is cut off. */
  readonly maxBufferedBytes: number;
  /** Which event types this stream receives. */
  readonly filter?: EventFilter;
  /** Called exactly once, when the stream ends for any reason. */
  readonly onClose: (stream: ClientStream, reason: CloseReason) => void;
}

let nextStreamNumber = 0;

/**
 * One open event stream: a browser tab or device. Output is queued and handed to the socket
 * once per turn of the event loop (see flush-scheduler.ts), so a burst of events costs one
 * syscall, not one per event. A stream never waits on its client: if the client falls behind
 * (queued plus unsent bytes over the limit), it is closed.
 *
 * While a resume is being replayed from history, live events are held back and sent after the
 * replay, skipping any the replay already sent, so the client sees no gap and no duplicate.
 */
export class ClientStream {
  readonly id: string;
  /** The stream's number in this process (its id is this number in base 36). */
  readonly serial: number;
  readonly userId: string;
  readonly openedAt = Date.now();
  readonly accepts: EventFilter;
  /** Cleanup to run when the stream ends (cancelling deadlines, for instance). */
  readonly cleanups: (() => void)[] = [];
  #response: ServerResponse;
  #maxBufferedBytes: number;
  #onClose: ClientStreamOptions['onClose'];
  #heldLive: EncodedFrame[] | undefined;
  #heldBytes = 0;
  #lastSentId = 0;
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #closed = false;
  #startedBody = false;

  constructor(response: ServerResponse, userId: string, options: ClientStreamOptions) {
    nextStreamNumber += 1;
    this.serial = nextStreamNumber;
    this.id = `s${nextStreamNumber.toString(36)}`;
    this.userId = userId;
    this.accepts = options.filter ?? acceptAll;
    this.#response = response;
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#onClose = options.onClose;

    response.once('close', () => this.#finish('client_closed'));
    response.once('error', () => this.#finish('write_error'));

    // The client may have gone while its token was checked: then 'close' has already fired
    // and will not again. Finish on the next tick, once the owner has registered the stream.
    if (response.destroyed || !response.socket || response.socket.destroyed) {
      queueMicrotask(() => this.#finish('client_closed'));
    }
  }

  /** Tells whether live events are being held back (the stream is not greeted yet). */
  get holding(): boolean {
    return this.#heldLive !== undefined;
  }

  /** Tells whether the stream has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes accepted but not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.#queuedBytes + this.#response.writableLength;
  }

  /** Offers an emitted event: held during a replay, otherwise written if the filter wants it. */
  deliver(frame: EncodedFrame): boolean {
    if (this.#closed || !this.accepts(frame.type)) return false;
    // Already sent, by a replay that read it from a shared history before it came live.
    if (frame.order !== 0 && frame.order <= this.#lastSentId) return false;

    if (this.#heldLive) {
      this.#heldLive.push(frame);
      this.#heldBytes += frame.bytes.length;
      // Half the budget: released on top of a replay's buffered half, it still fits.
      if (this.#heldBytes > this.#maxBufferedBytes / 2) this.close('slow_consumer');
      return !this.#closed;
    }

    return this.send(frame);
  }

  /** Writes a frame now, bypassing the filter and any hold; false once the stream has ended. */
  send(frame: EncodedFrame): boolean {
    if (frame.id !== undefined) this.#lastSentId = frame.order;

    return this.write(frame.bytes);
  }

  /** Starts holding live events back while history is replayed. */
  holdLive(): void {
    this.#heldLive ??= [];
  }

  /**
   * Ends the hold: writes the held events that are newer than `sentThrough` and than anything
   * already sent (the replay, or the position that `connected` or `sync:required` gave).
   */
  releaseLive(sentThrough: number): void {
    const held = this.#heldLive ?? [];
    this.#heldLive = undefined;
    this.#heldBytes = 0;

    const after = Math.max(sentThrough, this.#lastSentId);
    for (const frame of held) {
      if (frame.id !== undefined && frame.order <= after) continue;
      if (!this.send(frame)) return;
    }
  }

  /**
   * Flushes, then resolves when the socket drains, the stream ends, or `maxWaitMs` passes,
   * whichever comes first. Node emits 'drain' only after a write was refused, so below its
   * high-water mark the wait is simply the timeout.
   */
  drained(maxWaitMs: number): Promise<void> {
    this.flush();
    if (this.#closed) return Promise.resolve();

    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#response.socket?.off('drain', done);
        this.#response.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.#response.socket?.once('drain', done);
      this.#response.on('close', done);
    });
  }

  /** Queues bytes for the client; false when the stream has ended or was just cut off. */
  write(chunk: Buffer | string): boolean {
    if (this.#closed) return false;

    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.#queued.length === 0) flushScheduler.mark(this);
    this.#queued.push(bytes);
    this.#queuedBytes += bytes.length;

    if (this.bufferedBytes > this.#maxBufferedBytes) {
      this.close('slow_consumer');
      return false;
    }

    return true;
  }

  /** Ends the stream, after flushing what is queued. Safe to call more than once. */
  close(reason: CloseReason): void {
    if (this.#closed) return;

    if (reason === 'slow_consumer') {
      // Its buffer is already too full to be worth flushing: drop the socket now.
      this.#finish(reason);
      this.#response.destroy();
      return;
    }

    this.flush();
    this.#finish(reason);
    this.#response.end();
  }

  /**
   * Hands everything queued to the socket in one write, as one HTTP/1.1 chunk (RFC 9112
   * section 7.1) framed here rather than by Node's response object, whose per-write cork and
   * framing cost more than the write itself when one event goes to thousands of streams.
   */
  flush(): void {
    const queued = this.#queued;
    if (queued.length === 0 || this.#closed) return;

    this.#queued = [];
    const total = this.#queuedBytes;
    this.#queuedBytes = 0;
    const socket = this.#response.socket;
    if (!socket || socket.destroyed) return;

    // The first output goes through the response, which sends its head along in the same write
    // (flushing the head alone would cost every new stream a second syscall) and frames it.
    if (!this.#startedBody) {
      this.#startedBody = true;
      this.#response.write(Buffer.concat(queued, total));
      return;
    }

    // An HTTP/1.0 client gets the body as it is, ended by the connection's close.
    if (!this.#response.chunkedEncoding) socket.write(Buffer.concat(queued, total));
    else if (queued.length === 1) socket.write(sharedChunk(queued[0] as Buffer));
    else socket.write(frameChunk(queued, total));
  }

  #finish(reason: CloseReason): void {
    if (this.#closed) return;

    this.#closed = true;
    this.#heldLive = undefined;
    this.#queued = [];
    this.#queuedBytes = 0;
    flushScheduler.forget(this);
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.#onClose(this, reason);
  }
}

// A frame that goes alone to many streams (one emit to 10,000 tabs, a slice of heartbeats) is
// framed as a chunk once, and that chunk is written to all of them: no copy per delivery.
const chunkOfFrame = new WeakMap<Buffer, Buffer>();

function sharedChunk(frame: Buffer): Buffer {
  let chunk = chunkOfFrame.get(frame);
  if (chunk === undefined) {
    chunk = frameChunk([frame], frame.length);
    chunkOfFrame.set(frame, chunk);
  }

  return chunk;
}

// `<size in hex>\r\n<data>\r\n`: the chunk framing of a response with no Content-Length.
function frameChunk(parts: Buffer[], total: number): Buffer {
  const head = `${total.toString(16)}\r\n`;
  const chunk = Buffer.allocUnsafe(head.length + total + 2);
  let offset = chunk.write(head, 0, 'latin1');
  for (const part of parts) offset += part.copy(chunk, offset);
  chunk.write('\r\n', offset, 'latin1');

  return chunk;
}
