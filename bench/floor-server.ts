/**
 * The floor of Node's HTTP layer on this machine: bare `node:http`, no framework, no token
 * check, no database, no log line. A stream gets the response head and one `connected` frame
 * and is then held; `/emit` reads and parses its JSON body and answers a fixed JSON object.
 * No real gateway can open streams or answer emits faster than this on the same load tool, so
 * it shows how much of a target is within reach of any Node server at all.
 *
 * Run: PORT=0 node --import tsx bench/floor-server.ts
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const port = Number(process.env.PORT ?? 0);
const MAX_BODY_BYTES = 64 * 1024;

const STREAM_HEAD = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache',
  Connection: 'keep-alive',
};
const EMIT_ANSWER = JSON.stringify({ success: true, connectionsNotified: 0 });
const held = new Set<ServerResponse>();

function openStream(response: ServerResponse): void {
  response.writeHead(200, STREAM_HEAD);
  response.write(`event: connected\ndata: {"type":"connected","timestamp":${Date.now()}}\n\n`);
  held.add(response);
  response.on('close', () => held.delete(response));
}

function answerEmit(request: IncomingMessage, response: ServerResponse): void {
  const parts: Buffer[] = [];
  let size = 0;

  request.on('data', (part: Buffer) => {
    size += part.length;
    if (size > MAX_BODY_BYTES) request.destroy();
    else parts.push(part);
  });
  request.on('end', () => {
    try {
      JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      response.writeHead(400).end();
      return;
    }
    response.writeHead(200, { 'Content-Type': 'application/json' }).end(EMIT_ANSWER);
  });
}

const server = createServer((request, response) => {
  const path = request.url?.split('?')[0];
  if (request.method === 'GET' && path === '/api/events/stream') openStream(response);
  else if (request.method === 'POST' && path === '/api/events/emit') answerEmit(request, response);
  else response.writeHead(404).end();
});

server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(
    `${JSON.stringify({ msg: 'floor listening', url: `http://127.0.0.1:${boundPort}` })}\n`,
  );
});
