import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { waitFor } from './server.js';

/** A raw connection and everything the server has sent on it so far. */
export interface RawConnection {
  readonly socket: Socket;
  readonly hostname: string;
  /** Waits until the text has arrived; fails the test with what did arrive if it does not. */
  receive(text: string): Promise<void>;
  all(): string;
}

/** Opens a TCP connection to a test server, for requests no client library would make. */
export function rawConnection(serverUrl: string): RawConnection {
  const { hostname, port } = new URL(serverUrl);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  let received = '';
  socket.on('data', (bytes: Buffer) => (received += bytes.toString('latin1')));

  const receive = async (text: string) => {
    await waitFor(
      () => received,
      (sofar) => sofar.includes(text),
    );
    assert.ok(received.includes(text), received);
  };

  return { socket, hostname, receive, all: () => received };
}

/** A whole answer to one request, as the bytes on the wire said it. */
export interface RawAnswer {
  status: number;
  /** Header names in lower case, in the order sent. */
  headers: [string, string][];
  body: string;
}

/**
 * Sends one request exactly as written and reads one answer (framed by its Content-Length),
 * then closes the connection. The request may keep the connection alive: the answer's
 * `Connection` header then says whether the server would have.
 */
export async function rawExchange(serverUrl: string, request: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(serverUrl);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => undefined);
  let received = Buffer.alloc(0);
  socket.on('data', (part: Buffer) => (received = Buffer.concat([received, part])));
  socket.write(request);

  const answer = await waitFor(
    () => readAnswer(received),
    (read) => read !== undefined,
  );
  socket.destroy();
  assert.ok(answer, `no whole answer: ${JSON.stringify(received.toString('latin1'))}`);

  return answer;
}

function readAnswer(bytes: Buffer): RawAnswer | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;

  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });
  const length = Number(headers.find(([name]) => name === 'content-length')?.[1] ?? 0);
  const body = bytes.subarray(headEnd + 4);
  if (body.length < length) return undefined;

  return {
    status: Number(statusLine!.split(' ')[1]),
    headers,
    body: body.subarray(0, length).toString('utf8'),
  };
}
