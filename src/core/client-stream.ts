import type { Socket } from 'node:net';
import type { EncodedFrame } from '../sse.js';
import { acceptAll, type EventFilter } from './event-filter.js';
import { flushScheduler } from './flush-scheduler.js';

/** Why a stream ended; used in logs and counters. */
export type CloseReason =
  'client_closed' | 'user_deleted' | 'slow_consumer' | 'token_expired' | 'shutdown' | 'write_error';

/**
 * Where a stream's bytes go: the connection of its request, with the response head still to
 * send. The stream writes to the socket itself, head included, rather than through Node's
 * response object, whose per-write cork and framing cost more than the write itself when one
 * event goes to thousands of streams.
 */
export interface StreamConnection {
  readonly socket: Socket;
  /** Status line and headers, ending in an empty line; sent with the first bytes. */
  readonly head: string;
  /** Chunked transfer coding (HTTP/1.1); without it the body ends when the connection does. */
  readonly chunked: boolean;
}

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

// Sockets that carry a stream's body, which no other response may interrupt.
const streamSockets = new WeakSet<Socket>();

/** Tells whether a stream writes to this socket (so nothing else may). */
export function carriesStream(socket: Socket): boolean {
  return streamSockets.has(socket);
}

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
  #socket: Socket;
  /** The response head until it is sent. */
  #head: string | undefined;
  #chunked: boolean;
  #maxBufferedBytes: number;
  #onClose: ClientStreamOptions['onClose'];
  #heldLive: EncodedFrame[] | undefined;
  #heldBytes = 0;
  #lastSentId = 0;
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #closed = false;

  constructor(connection: StreamConnection, userId: string, options: ClientStreamOptions) {
    nextStreamNumber += 1;
    this.serial = nextStreamNumber;
    this.id = `s${nextStreamNumber.toString(36)}`;
    this.userId = userId;
    this.accepts = options.filter ?? acceptAll;
    this.#socket = connection.socket;
    this.#head = connection.head;
    this.#chunked = connection.chunked;
    this.#maxBufferedBytes = options.maxBufferedBytes;
    this.#onClose = options.onClose;

    const { socket } = connection;
    streamSockets.add(socket);
    socket.once('close', () => this.#finish('client_closed'));
    // 'on', not 'once': a second error with no listener left would be thrown.
    socket.on('error', () => this.#finish('write_error'));

    // The client may have gone while its token was checked: then 'close' has already fired
    // and will not again. Finish on the next tick, once the owner has registered the stream.
    if (socket.destroyed) {
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
    return this.#queuedBytes + this.#socket.writableLength;
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
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, maxWaitMs);
      this.#socket.once('drain', done);
      this.#socket.once('close', done);
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
      this.#socket.destroy();
      return;
    }

    this.flush();
    this.#finish(reason);
    this.#endResponse();
  }

  /**
   * Hands everything queued to the socket in one write, as one HTTP/1.1 chunk (RFC 9112
   * section 7.1). The first write carries the response head too: sent alone, it would cost
   * every new stream a second syscall.
   */
  flush(): void {
    const queued = this.#queued;
    if (queued.length === 0 || this.#closed) return;

    this.#queued = [];
    const total = this.#queuedBytes;
    this.#queuedBytes = 0;
    const socket = this.#socket;
    if (socket.destroyed) return;

    const head = this.#head;
    if (head !== undefined) {
      this.#head = undefined;
      socket.write(frameChunk(queued, total, { head, chunked: this.#chunked }));
    } else if (!this.#chunked) {
      // An HTTP/1.0 client gets the body as it is, ended by the connection's close.
      socket.write(Buffer.concat(queued, total));
    } else if (queued.length === 1) {
      socket.write(sharedChunk(queued[0] as Buffer));
    } else {
      socket.write(frameChunk(queued, total));
    }
  }

  // The last chunk (and the head, if nothing was ever sent), then the connection closes once
  // the kernel has it: the request's connection served this response and no other.
  #endResponse(): void {
    const socket = this.#socket;
    if (socket.destroyed) return;

    const last = (this.#head ?? '') + (this.#chunked ? '0\r\n\r\n' : '');
    this.#head = undefined;
    socket.end(Buffer.from(last, 'latin1'), () => socket.destroy());
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

// `<size in hex>\r\n<data>\r\n`: the chunk framing of a response with no Content-Length. With
// `first`, the response head goes in front, and an unchunked body is not framed at all.
function frameChunk(
  parts: Buffer[],
  total: number,
  first?: { head: string; chunked: boolean },
): Buffer {
  const chunked = first?.chunked ?? true;
  const before = (first?.head ?? '') + (chunked ? `${total.toString(16)}\r\n` : '');
  const after = chunked ? '\r\n' : '';
  const chunk = Buffer.allocUnsafe(Buffer.byteLength(before, 'latin1') + total + after.length);
  let offset = chunk.write(before, 0, 'latin1');
  for (const part of parts) offset += part.copy(chunk, offset);
  chunk.write(after, offset, 'latin1');

  return chunk;
}
