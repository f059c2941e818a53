/**
 * The practical limit of Node on this machine: a bare `node:net` server that answers any GET
 * with SSE headers by hand and then writes pre-serialized frames, with no framework, no
 * chunked encoding (the body runs until the socket closes) and no per-socket work beyond the
 * write itself. A second, control port fires events on command:
 *
 *   POST /fire?frames=K&count=E&seq=S  E events with data.seq S…S+E-1, K frames per write
 *   GET  /stats                        open sockets and the process's CPU time
 *
 * Run: PORT=0 CONTROL_PORT=0 node --import tsx bench/ceiling-server.ts
 */
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';

const HEAD =
  'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n' +
  'Connection: close\r\n\r\n';
const CONNECTED = 'event: connected\ndata: {"type":"connected"}\n\n';

const sockets = new Set<Socket>();

const streams = createServer((socket) => {
  socket.setNoDelay(true);
  socket.once('data', () => {
    // Whatever the request says, it gets a stream: the ceiling measures writes, not parsing.
    socket.write(HEAD + CONNECTED);
    sockets.add(socket);
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => sockets.delete(socket));
});

// Sized like Pulse's frames so the bytes per delivery match.
function frame(seq: number, sentAt: number): string {
  const data = { type: 'bench:tick', timestamp: Math.floor(sentAt), data: { seq, sentAt } };
  return `id: ${seq}\nevent: bench:tick\ndata: ${JSON.stringify(data)}\n\n`;
}

interface FireResult {
  sockets: number;
  events: number;
  writes: number;
  deliveries: number;
  writeMs: number;
  cpuMs: number;
}

// Each batch of K events is serialized once into one buffer and written to every socket in
// one synchronous loop; the loop yields between batches, as a server between requests would.
async function fire(framesPerWrite: number, count: number, seqStart: number): Promise<FireResult> {
  const targets = [...sockets];
  const cpuBefore = process.cpuUsage();
  const startedAt = performance.now();
  let writes = 0;

  for (let first = 0; first < count; first += framesPerWrite) {
    const sentAt = performance.timeOrigin + performance.now();
    let text = '';
    for (let seq = first; seq < Math.min(count, first + framesPerWrite); seq += 1) {
      text += frame(seqStart + seq, sentAt);
    }
    const bytes = Buffer.from(text);
    for (const socket of targets) {
      if (!socket.destroyed) socket.write(bytes);
    }
    writes += targets.length;
    await nextTurn();
  }

  const cpu = process.cpuUsage(cpuBefore);
  return {
    sockets: targets.length,
    events: count,
    writes,
    deliveries: targets.length * count,
    writeMs: performance.now() - startedAt,
    cpuMs: (cpu.user + cpu.system) / 1000,
  };
}

function answer(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify(body));
}

const control = createHttpServer((request, response) => {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  request.resume();

  if (request.method === 'GET' && url.pathname === '/stats') {
    const cpu = process.cpuUsage();
    answer(response, 200, { sockets: sockets.size, cpuMs: (cpu.user + cpu.system) / 1000 });
    return;
  }
  if (request.method !== 'POST' || url.pathname !== '/fire') {
    answer(response, 404, { message: 'no such route' });
    return;
  }

  const framesPerWrite = Math.max(1, Number(url.searchParams.get('frames') ?? 1));
  const count = Math.max(0, Number(url.searchParams.get('count') ?? 1));
  const seqStart = Number(url.searchParams.get('seq') ?? 0);
  void fire(framesPerWrite, count, seqStart).then((result) => answer(response, 200, result));
});

function portOf(server: { address(): AddressInfo | string | null }): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

streams.listen(Number(process.env.PORT ?? 0), '127.0.0.1', 4096, () => {
  control.listen(Number(process.env.CONTROL_PORT ?? 0), '127.0.0.1', () => {
    const url = `http://127.0.0.1:${portOf(streams)}`;
    const controlUrl = `http://127.0.0.1:${portOf(control)}`;
    process.stdout.write(`${JSON.stringify({ msg: 'ceiling listening', url, controlUrl })}\n`);
  });
});
