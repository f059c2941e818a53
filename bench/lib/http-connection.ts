import { connect, type Socket } from 'node:net';

/** An HTTP answer: its status and its body as text. */
export interface Answer {
  readonly status: number;
  readonly body: string;
}

const HEAD_END = '\r\n\r\n';

/**
 * One keep-alive HTTP/1.1 connection that sends a request and reads its answer, one at a time.
 * Hand-written so the emitter spends as little CPU as it can on its side of the measurement:
 * it needs only answers framed by `Content-Length`, which both servers send for JSON.
 */
export class HttpConnection {
  readonly #socket: Socket;
  #buffer = '';
  #waiting: { resolve: (answer: Answer) => void; reject: (error: Error) => void } | undefined;
  #error: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (bytes: Buffer) => this.#read(bytes));
    socket.on('error', (error: Error) => this.#broken(error));
    socket.on('close', () => this.#broken(new Error('connection closed')));
  }

  /** Opens a connection to a port on 127.0.0.1. */
  static open(port: number): Promise<HttpConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => resolve(new HttpConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends one complete request and resolves with its answer. */
  request(text: string): Promise<Answer> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#waiting) return Promise.reject(new Error('a request is already in flight'));

    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      this.#socket.write(text);
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#socket.destroy();
  }

  #read(bytes: Buffer): void {
    this.#buffer += bytes.toString('utf8');
    const headEnd = this.#buffer.indexOf(HEAD_END);
    if (headEnd < 0) return;

    const head = this.#buffer.slice(0, headEnd);
    const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
    if (!length) {
      this.#broken(new Error('answer without Content-Length'));
      return;
    }
    const bodyStart = headEnd + HEAD_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    // Content-Length counts bytes; the bodies here are ASCII JSON, so characters will do.
    if (this.#buffer.length < bodyEnd) return;

    const status = Number(head.slice(9, 12));
    const body = this.#buffer.slice(bodyStart, bodyEnd);
    this.#buffer = this.#buffer.slice(bodyEnd);
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.resolve({ status, body });
  }

  #broken(error: Error): void {
    this.#error ??= error;
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.reject(error);
  }
}
