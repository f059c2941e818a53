import { connect, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './redis.js';

/** A TCP proxy on 127.0.0.1 between Pulse and a test Redis, that fails the way networks do. */
export interface RedisProxy {
  url: string;
  /** Passes the next emit script on to Redis, then cuts that connection before the answer. */
  loseNextEmitAnswer(): void;
  /** Cuts the connections that blocked in XREAD (`reader`) or the others, and keeps them cut. */
  cut(which: 'reader' | 'others'): void;
  /** Stops accepting connections: new ones are refused until `accept`. */
  refuse(): Promise<void>;
  /** Accepts connections again, on the same port. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket;
  reader: boolean;
  answering: boolean;
}

// The emit script is the only command whose keys name a user's history.
const EMIT_MARK = 'pulse:history:';

/** Starts a proxy to the Redis on `redisPort`. */
export async function startRedisProxy(redisPort: number): Promise<RedisProxy> {
  const port = await freePort();
  const links = new Set<Link>();
  let server: Server | undefined;
  let loseEmitAnswer = false;

  const link = (client: Socket) => {
    const upstream = connect(redisPort, '127.0.0.1');
    const entry: Link = { client, upstream, reader: false, answering: true };
    links.add(entry);
    client.on('data', (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (/xread/i.test(text)) entry.reader = true;
      if (loseEmitAnswer && text.includes(EMIT_MARK)) {
        loseEmitAnswer = false;
        entry.answering = false;
        // Long enough for Redis to run the script; the answer never comes back.
        setTimeout(() => client.destroy(), 50);
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (entry.answering) client.write(chunk);
    });
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
    client.on('close', () => {
      upstream.destroy();
      links.delete(entry);
    });
    upstream.on('close', () => client.destroy());
  };

  const accept = () =>
    new Promise<void>((resolve) => {
      server = createServer(link);
      server.listen(port, '127.0.0.1', resolve);
    });
  // The listener closes at once; connections already open are left to `cut` and `close`.
  const refuse = async () => {
    server?.close();
    server = undefined;
  };

  await accept();
  return {
    url: `redis://127.0.0.1:${port}`,
    loseNextEmitAnswer: () => {
      loseEmitAnswer = true;
    },
    cut: (which) => {
      for (const entry of links) {
        if (entry.reader === (which === 'reader')) entry.client.destroy();
      }
    },
    refuse,
    accept,
    close: async () => {
      await refuse();
      for (const entry of links) entry.client.destroy();
    },
  };
}
