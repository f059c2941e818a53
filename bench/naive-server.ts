/**
 * The naive design the benchmark compares Pulse with: what most Express apps ship. Each
 * connection has its own heartbeat `setInterval`; each event is serialized and written once
 * per connection; nothing watches the socket buffers. It speaks Pulse's contract closely enough
 * for the same load tool: the stream takes a JWT from the header or `?token=`, and `/emit` takes
 * the service token. Unlike Pulse it trusts the token's user id and keeps no history.
 *
 * Run: PORT=0 JWT_SECRET=… SERVICE_TOKEN=… node --import tsx bench/naive-server.ts
 */
import express, { type Request, type Response } from 'express';
import { jwtVerify } from 'jose';

const port = Number(process.env.PORT ?? 0);
const heartbeatMs = Number(process.env.HEARTBEAT_MS ?? 15_000);
const jwtKey = new TextEncoder().encode(process.env.JWT_SECRET ?? '');
const serviceToken = process.env.SERVICE_TOKEN ?? '';

const clients = new Map<string, Set<Response>>();
let eventCounter = 0;

function bearer(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return header.slice('Bearer '.length);

  const query = request.query.token;
  return typeof query === 'string' ? query : undefined;
}

async function userIdOf(request: Request): Promise<string | undefined> {
  const token = bearer(request);
  if (!token) return undefined;

  try {
    const { payload } = await jwtVerify(token, jwtKey, { algorithms: ['HS256'] });
    return typeof payload.id === 'string' ? payload.id : undefined;
  } catch {
    return undefined;
  }
}

function forget(userId: string, response: Response): void {
  const set = clients.get(userId);
  set?.delete(response);
  if (set?.size === 0) clients.delete(userId);
}

async function openStream(request: Request, response: Response): Promise<void> {
  const userId = await userIdOf(request);
  if (!userId) {
    response.status(401).json({ success: false, message: 'Invalid token' });
    return;
  }

  response.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache',
    Connection: 'keep-alive',
  });
  const greeting = { type: 'connected', userId, timestamp: Date.now() };
  response.write(`event: connected\ndata: ${JSON.stringify(greeting)}\n\n`);

  const heartbeat = setInterval(() => {
    const beat = { type: 'heartbeat', timestamp: Date.now() };
    response.write(`event: heartbeat\ndata: ${JSON.stringify(beat)}\n\n`);
  }, heartbeatMs);

  let set = clients.get(userId);
  if (!set) {
    set = new Set();
    clients.set(userId, set);
  }
  set.add(response);
  response.on('close', () => {
    clearInterval(heartbeat);
    forget(userId, response);
  });
}

function emit(request: Request, response: Response): void {
  if (request.headers.authorization !== `Bearer ${serviceToken}`) {
    response.status(403).json({ success: false, message: 'Invalid service token' });
    return;
  }
  const { userId, eventType, data } = (request.body ?? {}) as Record<string, unknown>;
  if (typeof userId !== 'string' || typeof eventType !== 'string' || typeof data !== 'object') {
    response.status(400).json({ success: false, message: 'userId, eventType and data needed' });
    return;
  }

  eventCounter += 1;
  let connectionsNotified = 0;
  for (const client of clients.get(userId) ?? []) {
    // The naive part: a fresh serialization and a separate write for every connection.
    const event = { type: eventType, timestamp: Date.now(), data };
    client.write(`id: ${eventCounter}\nevent: ${eventType}\ndata: ${JSON.stringify(event)}\n\n`);
    connectionsNotified += 1;
  }

  response.json({ success: true, connectionsNotified });
}

const app = express();
app.use(express.json({ limit: '256kb' }));
app.get('/api/events/stream', (request, response) => void openStream(request, response));
app.post('/api/events/emit', emit);

const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(
    `${JSON.stringify({ msg: 'naive listening', url: `http://127.0.0.1:${boundPort}` })}\n`,
  );
});
