import {
  maxHeaderSize as nodeMaxHeaderSize,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import { carriesStream } from '../core/client-stream.js';
import { bearerToken } from './authenticate.js';
import type { AppContext } from './context.js';
import {
  refuseStreamIfNeeded,
  resumePoint,
  startStream,
  streamFilter,
  type StreamRequest,
} from './open-stream.js';
import { asksToClose, plainStreamHead, streamHead } from './stream-head.js';
import { readStreamRequest, STREAM_PATH, type PlainStreamRequest } from './stream-request.js';

// Node's own default for how long a connection may take to send its request head.
const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;

// All a stream's client may send, its request included (at most 16 KiB), before it is cut off.
// Once the stream is open it may send blank lines (which HTTP lets a client send between
// requests) and nothing else.
const MAX_BYTES_FROM_STREAM_CLIENT = 32 * 1024;

type ConnectionListener = (this: Server, socket: Socket) => void;
type RequestListener = (this: Server, request: IncomingMessage, response: ServerResponse) => void;

/**
 * The stream front sees each new connection before node:http does. When its first request is
 * a plain, admissible stream request (a valid JWT of an existing user, within every limit),
 * the front opens the stream on the bare socket. node:http, Fastify and their per-request
 * objects never see that connection: an idle stream then holds half the memory, and opening
 * it takes about a quarter less CPU.
 *
 * Every other connection, and every stream request the full server would refuse or that the
 * front cannot read with certainty, is handed on to node:http with the bytes already read, as
 * if the front were not there. So refusals, their codes and their logs come from one place;
 * the front only takes the common case off its hands.
 */
export class StreamFront {
  readonly #server: Server;
  readonly #context: AppContext;
  readonly #handOn: ConnectionListener;
  readonly #headersTimeoutMs: number;
  readonly #maxHeaderBytes: number;
  /** Connections the front holds, until they close: shutdown may have to cut them. */
  readonly #held = new Set<Socket>();
  readonly #forget: (this: Socket) => void;
  #opened = 0;

  constructor(server: Server, context: AppContext) {
    const listener = server.listeners('connection').find(isNodeHttpListener);
    if (!listener) throw new Error('node:http connection listener not found');

    this.#server = server;
    this.#context = context;
    this.#handOn = listener;
    this.#headersTimeoutMs = server.headersTimeout || DEFAULT_HEADERS_TIMEOUT_MS;
    // A longer head goes to node:http, to be refused there.
    const ownLimit = (server as { maxHeaderSize?: number }).maxHeaderSize;
    this.#maxHeaderBytes = ownLimit || nodeMaxHeaderSize;
    const held = this.#held;
    this.#forget = function forget(this: Socket) {
      held.delete(this);
    };

    server.off('connection', listener);
    server.on('connection', (socket: Socket) => this.#accept(socket));
    refuseRequestsBehindStreams(server);
  }

  /** Stream requests the front admitted and opened itself (the rest went to node:http). */
  get opened(): number {
    return this.#opened;
  }

  /** Connections the front holds now: waiting for a request, or carrying a stream. */
  get holding(): number {
    return this.#held.size;
  }

  /** Cuts every connection the front holds; the last step of a shutdown. */
  destroyAll(): void {
    for (const socket of this.#held) socket.destroy();
    this.#held.clear();
  }

  #accept(socket: Socket): void {
    this.#held.add(socket);
    socket.once('close', this.#forget);
    socket.on('error', ignoreError);
    socket.once('end', destroySocket);
    // A connection that sends nothing within node:http's headers timeout is closed.
    socket.setTimeout(this.#headersTimeoutMs);
    socket.once('timeout', destroySocket);
    socket.once('data', (bytes: Buffer) => {
      // Nothing more is read until the request's way is decided.
      socket.pause();
      void this.#route(socket, bytes);
    });
  }

  async #route(socket: Socket, bytes: Buffer): Promise<void> {
    const plain = readStreamRequest(bytes, this.#maxHeaderBytes);
    const admitted = plain && (await this.#admit(plain));
    if (socket.destroyed) return;

    if (!admitted) {
      this.#giveToNodeHttp(socket, bytes);
      return;
    }

    socket.setTimeout(0);
    socket.off('timeout', destroySocket);
    // Keep reading, so a client that goes away is noticed at once.
    socket.on('data', ignoreBlankLines);
    socket.resume();
    this.#opened += 1;
    const head = asksToClose(plain.connection)
      ? streamHead({}, { chunked: true, close: true })
      : plainStreamHead();
    const connection = { socket, head, chunked: true };
    await startStream(this.#context, connection, admitted, this.#context.logger);
  }

  // Any doubt, any refusal, any error: undefined, and node:http answers the request instead.
  async #admit(request: PlainStreamRequest): Promise<StreamRequest | undefined> {
    const context = this.#context;
    const { query } = request;
    // Tickets are single-use, and CORS headers are the plugin's to write.
    if (query.ticket !== undefined || context.config.corsOrigins.length > 0) return undefined;

    const token = bearerToken(request.authorization) ?? nonEmpty(query.token);
    if (token === undefined) return undefined;

    try {
      const verified = context.tokens.verify(token);
      const user = await context.store.findById(verified.userId);
      if (!user) return undefined;
      refuseStreamIfNeeded(context, user.id);

      const { id, email, name } = user;
      return {
        user: { id, email, name, tokenExpiresAt: verified.expiresAt },
        lastEventId: resumePoint(request.lastEventId, query.lastEventId),
        filter: streamFilter(query.events),
      };
    } catch {
      return undefined;
    }
  }

  // node:http takes the connection as if it had just arrived, with the bytes read so far put
  // back in front of anything that came since.
  #giveToNodeHttp(socket: Socket, bytes: Buffer): void {
    this.#held.delete(socket);
    socket.off('close', this.#forget);
    socket.off('error', ignoreError);
    socket.off('end', destroySocket);
    socket.off('timeout', destroySocket);
    socket.setTimeout(0);

    socket.unshift(bytes);
    this.#handOn.call(this.#server, socket);
    socket.resume();
  }
}

function isNodeHttpListener(listener: unknown): listener is ConnectionListener {
  return typeof listener === 'function' && listener.name === 'connectionListener';
}

function nonEmpty(text: string | undefined): string | undefined {
  return text === undefined || text === '' ? undefined : text;
}

// Shared by every socket, so a held connection carries no closures of its own for these.
function destroySocket(this: Socket): void {
  this.destroy();
}

function ignoreError(): void {
  // The socket is destroyed by Node after an error; its 'close' does the cleanup.
}

// What a stream's client sends is read only so that its close is seen. Anything but blank
// lines (a request pipelined behind the stream, which could never be answered) cuts it off.
function ignoreBlankLines(this: Socket, bytes: Buffer): void {
  if (this.bytesRead > MAX_BYTES_FROM_STREAM_CLIENT || !onlyLineEnds(bytes)) this.destroy();
}

function onlyLineEnds(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte !== 0x0d && byte !== 0x0a) return false;
  }

  return true;
}

// node:http parses requests sent behind a stream request on the same connection and would run
// them, unanswered, since the stream's response never ends. They are refused by closing the
// connection, as the front does for streams it opened. A stream request is pending from its
// arrival until its response finishes (a refusal does; an open stream never does), so even a
// request in the same packet, parsed before the stream has opened, is caught.
function refuseRequestsBehindStreams(server: Server): void {
  const handlers = server.listeners('request') as RequestListener[];
  const pendingStream = new WeakSet<Socket>();
  server.removeAllListeners('request');

  server.on('request', function routeUnlessBehindStream(this: Server, request, response) {
    const { socket } = request;
    if (pendingStream.has(socket) || carriesStream(socket)) {
      socket.destroy();
      return;
    }
    if (request.method === 'GET' && isStreamTarget(request.url)) {
      pendingStream.add(socket);
      response.once('finish', () => pendingStream.delete(socket));
    }
    for (const handler of handlers) handler.call(this, request, response);
  });
}

function isStreamTarget(url: string | undefined): boolean {
  return url === STREAM_PATH || (url?.startsWith(`${STREAM_PATH}?`) ?? false);
}
