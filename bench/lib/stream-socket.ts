import { connect, type Socket } from 'node:net';
import type { KeySource } from './protocol.js';
import { SseReader } from './sse-reader.js';

/** What a stream reports to the worker that holds it. */
export interface StreamListener {
  opened(stream: StreamSocket): void;
  failed(stream: StreamSocket, reason: string): void;
  /** The server ended a stream that had opened. */
  closedEarly(stream: StreamSocket): void;
  received(stream: StreamSocket, key: number, sentAt: number): void;
}

/** Where and as whom a stream connects. */
export interface StreamAddress {
  readonly port: number;
  readonly path: string;
  readonly localAddress: string;
  readonly token: string | undefined;
  readonly keyBy: KeySource;
}

/**
 * One SSE stream on a raw socket: a hand-written GET, then frames read by `SseReader`. It is
 * open once its first frame (`connected`) has arrived. Keys received are kept for the check.
 */
export class StreamSocket {
  readonly userIndex: number;
  /** Keys of events received since the last check. */
  keys: number[] = [];
  #socket: Socket | undefined;
  #listener: StreamListener;
  #state: 'opening' | 'open' | 'failed' | 'closed' = 'opening';

  constructor(userIndex: number, listener: StreamListener) {
    this.userIndex = userIndex;
    this.#listener = listener;
  }

  /** Tells whether the stream is open. */
  get isOpen(): boolean {
    return this.#state === 'open';
  }

  /** Connects and sends the request. */
  open(address: StreamAddress): void {
    const socket = connect({
      host: '127.0.0.1',
      port: address.port,
      localAddress: address.localAddress,
    });
    this.#socket = socket;
    const reader = new SseReader(address.keyBy, {
      onFailure: (reason) => this.#fail(reason),
      onControlFrame: () => this.#markOpen(),
      onEvent: (key, sentAt) => {
        this.#markOpen();
        this.#listener.received(this, key, sentAt);
      },
    });

    socket.once('connect', () => socket.write(requestText(address)));
    socket.on('data', (bytes: Buffer) => reader.feed(bytes));
    socket.on('error', (error: Error) => this.#fail(error.message));
    socket.on('close', () => this.#ended());
  }

  /** Gives up on a stream that has not opened yet. */
  abandon(reason: string): void {
    if (this.#state === 'opening') this.#fail(reason);
  }

  /**
   * Closes the socket from our side; this is not an early close. With a reset, not a FIN: a
   * FIN leaves the port in TIME_WAIT for a minute, and tens of thousands of those make every
   * later bind() on the machine slower, so each run's clients would cost more than the last.
   */
  close(): void {
    if (this.#state === 'open') this.#state = 'closed';
    this.#socket?.resetAndDestroy();
  }

  #markOpen(): void {
    if (this.#state !== 'opening') return;

    this.#state = 'open';
    this.#listener.opened(this);
  }

  #fail(reason: string): void {
    if (this.#state !== 'opening') return;

    this.#state = 'failed';
    this.#socket?.destroy();
    this.#listener.failed(this, reason);
  }

  #ended(): void {
    if (this.#state === 'opening') {
      this.#fail('closed before the first frame');
      return;
    }
    if (this.#state !== 'open') return;

    this.#state = 'closed';
    this.#listener.closedEarly(this);
  }
}

function requestText(address: StreamAddress): string {
  const auth = address.token === undefined ? '' : `Authorization: Bearer ${address.token}\r\n`;

  return (
    `GET ${address.path} HTTP/1.1\r\nHost: 127.0.0.1:${address.port}\r\n` +
    `Accept: text/event-stream\r\n${auth}\r\n`
  );
}
