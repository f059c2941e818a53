import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import secureJson from 'secure-json-parse';
import { errorBody, PulseError } from '../errors.js';
import type { Logger } from '../log.js';
import { bearerToken } from './authenticate.js';
import type { AppContext } from './context.js';
import { AnswerBatch } from './answer-batch.js';
import { failureAnswer } from './error-handler.js';
import { emitEvent } from './emit-event.js';
import {
  checkEmitBody,
  EMIT_FIELD_MESSAGES,
  EMIT_PATH,
  IDEMPOTENCY_KEY_SCHEMA,
} from './emit-rules.js';
import { logAnswer } from './request-log.js';

// Fastify's defaults, which Pulse keeps (onProtoPoisoning and onConstructorPoisoning): a body
// that would set a prototype when merged is refused as invalid JSON.
const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

// Content types the front takes, compared in lower case; anything else (other parameters, other
// spacing) is Fastify's to judge.
const PLAIN_JSON_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);

// The shape IDEMPOTENCY_KEY_SCHEMA allows; a header outside it goes to Fastify to be refused.
const KEY_PATTERN = new RegExp(IDEMPOTENCY_KEY_SCHEMA.pattern);
const { minLength: KEY_MIN_LENGTH, maxLength: KEY_MAX_LENGTH } = IDEMPOTENCY_KEY_SCHEMA;

// A decimal length without leading zeros or signs, as an emitter's HTTP client writes it.
const PLAIN_CONTENT_LENGTH = /^[1-9][0-9]{0,9}$/;

const JSON_ANSWER_TYPE = 'application/json; charset=utf-8';

type RequestListener = (this: Server, request: IncomingMessage, response: ServerResponse) => void;

/**
 * The emit front answers the common `POST /api/events/emit` on node:http's own request and
 * response, without Fastify's routing, hooks and reply objects: the emit is the request a
 * backend sends thousands of times a second, and Fastify's share of it is about a quarter.
 *
 * It takes a request only when its head is plainly right: the exact path, the service token,
 * a JSON body of a stated length within MAX_EVENT_BYTES, a well-formed Idempotency-Key if any,
 * no Expect or Transfer-Encoding, CORS off and no shutdown. Every other request goes on to
 * Fastify before a byte of its body is read, so refusals of a head keep one source. The body
 * is then checked and emitted by the functions the route uses, and a failure is answered,
 * counted and logged as Fastify's error handler does it. Answers leave together at the end of
 * the event loop's turn (see answer-batch.ts).
 *
 * Pipelined requests are emitted in the order they came: a request behind one that Fastify is
 * still handling on the same connection goes to Fastify too, so it cannot overtake it.
 */
export class EmitFront {
  readonly #context: AppContext;
  readonly #log: Logger;
  readonly #enabled: boolean;
  readonly #answers: AnswerBatch;
  /** Requests handed to Fastify and not yet answered, by connection. */
  readonly #withFastify = new WeakMap<Socket, number>();
  #taken = 0;

  constructor(server: Server, context: AppContext) {
    this.#context = context;
    this.#log = context.logger;
    this.#answers = new AnswerBatch(context.logger);
    // With CORS on, every answer carries headers that only Fastify's CORS plugin adds.
    this.#enabled = context.config.corsOrigins.length === 0;

    const handlers = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const takeOrHandOn: RequestListener = (request, response) => {
      if (this.#takes(request)) {
        this.#take(request, response);
        return;
      }
      this.#holdOrder(request.socket, response);
      for (const handler of handlers) handler.call(server, request, response);
    };
    server.on('request', takeOrHandOn);
  }

  /** Emit requests the front took (the rest went to Fastify). */
  get taken(): number {
    return this.#taken;
  }

  #takes(request: IncomingMessage): boolean {
    if (!this.#enabled || request.method !== 'POST' || request.url !== EMIT_PATH) return false;
    if (this.#withFastify.has(request.socket)) return false;

    const { headers } = request;
    if (!this.#plainBody(headers)) return false;
    const key = headers['idempotency-key'];
    if (key !== undefined && !isPlainKey(key as string)) return false;
    const token = bearerToken(headers.authorization);
    if (token === undefined || !this.#context.isServiceToken(token)) return false;

    return !this.#context.lifecycle.shuttingDown;
  }

  // Counts a request Fastify has until its response is done (or its connection gone).
  #holdOrder(socket: Socket, response: ServerResponse): void {
    const waiting = this.#withFastify;
    waiting.set(socket, (waiting.get(socket) ?? 0) + 1);
    response.once('close', () => {
      const left = (waiting.get(socket) ?? 1) - 1;
      if (left === 0) waiting.delete(socket);
      else waiting.set(socket, left);
    });
  }

  #plainBody(headers: IncomingHttpHeaders): boolean {
    const type = headers['content-type']?.toLowerCase();
    if (type === undefined || !PLAIN_JSON_TYPES.has(type)) return false;
    if (headers['transfer-encoding'] !== undefined || headers.expect !== undefined) return false;

    const length = headers['content-length'];
    if (length === undefined || !PLAIN_CONTENT_LENGTH.test(length)) return false;

    return Number(length) <= this.#context.config.maxEventBytes;
  }

  #take(request: IncomingMessage, response: ServerResponse): void {
    this.#taken += 1;
    const reqId = `emit-${this.#taken.toString(36)}`;
    const startedAt = performance.now();
    const parts: Buffer[] = [];

    request.on('data', (part: Buffer) => parts.push(part));
    // A client that goes away mid-body gets no answer; its parts are dropped with it.
    request.on('error', ignoreError);
    request.once('end', () => {
      this.#answer(request, response, parts, reqId, startedAt).catch((error: unknown) => {
        // Only a fault in answering itself lands here; the connection cannot be trusted after.
        this.#log.child({ reqId }).error({ err: error }, 'request failed');
        response.destroy();
      });
    });
  }

  async #answer(
    request: IncomingMessage,
    response: ServerResponse,
    parts: Buffer[],
    reqId: string,
    startedAt: number,
  ): Promise<void> {
    // A child logger costs an object; it is made only when a line will be written.
    let log = this.#log.isLevelEnabled('debug') ? this.#log.child({ reqId }) : this.#log;
    let status = 200;
    try {
      const item = checkEmitBody(parseJson(parts));
      const keyHeader = request.headers['idempotency-key'];
      const answer = await emitEvent(this.#context, item, keyHeader, log);
      const body = JSON.stringify(answer);
      this.#answers.send(response, 200, jsonHead({}, body), body);
    } catch (error) {
      if (log === this.#log) log = this.#log.child({ reqId });
      const failure = failureAnswer(error, EMIT_FIELD_MESSAGES);
      status = failure.status;
      this.#context.rejections.count(failure.code);
      if (failure.code === 'INTERNAL_ERROR') log.error({ err: error }, 'request failed');
      const body = JSON.stringify(errorBody(failure.code, failure.message));
      // As Fastify does when a body does not parse: what the client sends next cannot be trusted.
      const headers: Record<string, string> =
        failure.code === 'INVALID_JSON' ? { connection: 'close' } : {};
      this.#answers.send(
        response,
        status,
        jsonHead({ ...headers, ...failure.headers }, body),
        body,
      );
    }

    logAnswer(log, 'POST', EMIT_PATH, status, performance.now() - startedAt);
  }
}

function isPlainKey(key: string): boolean {
  return key.length >= KEY_MIN_LENGTH && key.length <= KEY_MAX_LENGTH && KEY_PATTERN.test(key);
}

function parseJson(parts: Buffer[]): unknown {
  const text = parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString();

  try {
    return secureJson.parse(text, undefined, PARSE_OPTIONS);
  } catch {
    throw new PulseError('INVALID_JSON');
  }
}

// Header names in lower case, as Fastify writes them.
function jsonHead(headers: Record<string, string>, body: string): Record<string, string | number> {
  const head: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(headers)) head[name.toLowerCase()] = value;
  head['content-type'] = JSON_ANSWER_TYPE;
  head['content-length'] = Buffer.byteLength(body);

  return head;
}

function ignoreError(): void {}
