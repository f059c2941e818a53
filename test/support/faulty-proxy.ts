import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request, after Pulse has handled it. */
export type ProxyFault = 'pass' | 'late-answer' | 'no-answer';

/** A proxy on 127.0.0.1 in front of one Pulse, that can lose answers. */
export interface FaultyProxy {
  url: string;
  /** Requests seen, in order, with the idempotency key each carried. */
  requests: { path: string; body: string }[];
  close(): Promise<void>;
}

/**
 * Forwards each request to `target` and, as `faults` says for the n-th request (0-based),
 * answers normally, answers after `lateMs` (after the client gave up), or drops the connection
 * without answering. Either way Pulse did handle the request: the lost answer is the fault.
 */
export async function startFaultyProxy(
  target: string,
  faults: (requestNumber: number) => ProxyFault,
  lateMs = 1500,
): Promise<FaultyProxy> {
  const requests: FaultyProxy['requests'] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const server: Server = createServer(async (request, response) => {
    const body = await readBody(request);
    const fault = faults(requests.length);
    requests.push({ path: request.url ?? '', body });
    const answer = await forward(target, request, body);

    if (fault === 'no-answer') return void request.socket.destroy();
    if (fault === 'pass') return send(response, answer);
    const timer = setTimeout(() => {
      timers.delete(timer);
      send(response, answer);
    }, lateMs);
    timers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

async function forward(target: string, request: IncomingMessage, body: string): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'content-type', 'idempotency-key']) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const response = await fetch(target + (request.url ?? '/'), {
    method: request.method,
    headers,
    body: request.method === 'GET' ? undefined : body,
  });
  const retryAfter = response.headers.get('retry-after');

  return {
    status: response.status,
    headers: {
      'content-type': response.headers.get('content-type') ?? 'application/json',
      ...(retryAfter ? { 'retry-after': retryAfter } : {}),
    },
    text: await response.text(),
  };
}

function send(response: ServerResponse, answer: Answer): void {
  if (response.destroyed) return;
  response.writeHead(answer.status, answer.headers).end(answer.text);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);

  return Buffer.concat(chunks).toString('utf8');
}
