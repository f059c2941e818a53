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
