import assert from 'node:assert/strict';
import { once } from 'node:events';
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
 * Sends one request exactly as written (it should ask for `Connection: close`) and reads the
 * answer until the server closes the connection.
 */
export async function rawExchange(serverUrl: string, request: string | Buffer): Promise<RawAnswer> {
  const { hostname, port } = new URL(serverUrl);
  const socket = connect(Number(port), hostname);
  const parts: Buffer[] = [];
  socket.on('data', (part: Buffer) => parts.push(part));
  socket.write(request);
  await once(socket, 'close');

  const text = Buffer.concat(parts).toString('utf8');
  const headEnd = text.indexOf('\r\n\r\n');
  assert.ok(headEnd > 0, `no whole answer: ${JSON.stringify(text)}`);
  const [statusLine, ...lines] = text.slice(0, headEnd).split('\r\n');
  const headers = lines.map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
  });

  return { status: Number(statusLine!.split(' ')[1]), headers, body: text.slice(headEnd + 4) };
}
