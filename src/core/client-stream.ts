import type { ServerResponse } from 'node:http';

/** Why a stream ended; used in logs and, later, metrics. */
export type CloseReason =
  'client_closed' | 'user_deleted' | 'slow_consumer' | 'shutdown' | 'write_error';

/** What a stream needs from its owner. */
export interface ClientStreamOptions {
  /** Past this many unsent bytes the client is not keeping up and is cut off. */
  readonly maxBufferedBytes: number;
  /** Called exactly once, when the stream ends for any reason. */
  readonly onClose: (stream: ClientStream, reason: CloseReason) => void;
}

let nextStreamNumber = 0;

/**
 * One open event stream: a browser tab or device. Writes made in the same tick go out in one
 * socket write (cork until the next tick), so a burst of events costs one syscall, not one per
 * event. A stream never waits on its client: if the client falls behind, it is closed.
 */
export class ClientStream {
  readonly id: string;
  readonly userId: string;
  readonly openedAt = Date.now();
  #response: ServerResponse;
  #options: ClientStreamOptions;
  #corked = false;
  #closed = false;

  constructor(response: ServerResponse, userId: string, options: ClientStreamOptions) {
    nextStreamNumber += 1;
    this.id = `s${nextStreamNumber.toString(36)}`;
    this.userId = userId;
    this.#response = response;
    this.#options = options;

    response.once('close', () => this.#finish('client_closed'));
    response.once('error', () => this.#finish('write_error'));
  }

  /** Tells whether the stream has ended. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes accepted but not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.#response.writableLength;
  }

  /** Queues text for the client; false when the stream has ended or was just cut off. */
  write(text: string): boolean {
    if (this.#closed) return false;

    if (!this.#corked) {
      this.#corked = true;
      this.#response.cork();
      process.nextTick(uncork, this);
    }
    this.#response.write(text);

    if (this.#response.writableLength > this.#options.maxBufferedBytes) {
      this.close('slow_consumer');
      return false;
    }

    return true;
  }

  /** Ends the stream, after writing `finalText` if given. Safe to call more than once. */
  close(reason: CloseReason, finalText?: string): void {
    if (this.#closed) return;

    if (reason === 'slow_consumer') {
      // Its buffer is already too full to be worth flushing: drop the socket now.
      this.#finish(reason);
      this.#response.destroy();
      return;
    }

    if (finalText !== undefined) this.#response.write(finalText);
    this.#finish(reason);
    this.#response.end();
  }

  /** Sends what was corked in this tick. */
  flush(): void {
    if (!this.#corked) return;

    this.#corked = false;
    this.#response.uncork();
  }

  #finish(reason: CloseReason): void {
    if (this.#closed) return;

    this.#closed = true;
    this.#options.onClose(this, reason);
  }
}

function uncork(stream: ClientStream): void {
  stream.flush();
}
