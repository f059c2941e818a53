import type { PulseProcess } from './pulse-process.js';
import type { Frame } from './raw-stream.js';
import { TEST_SERVICE_TOKEN, type TestServer } from './server.js';

/** A user as the tests hold one: its id and a token. */
export type User = { id: string; token: string };

/** What a test needs of an instance, whether it runs in the test's process or in a child. */
export interface Instance {
  name: string;
  url: string;
  /** How many lines this instance logged with the message `msg`. */
  logged(msg: string): number;
  /** What it logged about Redis, with the time, for failure messages. */
  redisLines(): string[];
}

/** An instance started with startTestServer. */
export function inProcess(name: string, server: TestServer): Instance {
  const parsed = () => server.logLines.map((line) => JSON.parse(line) as LogLine);

  return {
    name,
    url: server.url,
    logged: (msg) => parsed().filter((line) => line.msg === msg).length,
    redisLines: () => redisLinesOf(parsed()),
  };
}

/** An instance started with startPulseProcess. */
export function inChild(name: string, child: PulseProcess): Instance {
  return {
    name,
    url: child.url,
    logged: (msg) => child.logLines().filter((line) => line.msg === msg).length,
    redisLines: () => redisLinesOf(child.logLines()),
  };
}

interface LogLine {
  msg: string;
  time?: unknown;
}

function redisLinesOf(lines: LogLine[]): string[] {
  return lines
    .filter((line) => line.msg.startsWith('redis '))
    .map((line) => `${line.time} ${line.msg}`);
}

/** The ids of the events among `frames`, in order (the `connected` frame's id is a position). */
export function idsOf(frames: Frame[]): string[] {
  return frames
    .filter((frame) => frame.id !== undefined && frame.event !== 'connected')
    .map((frame) => frame.id!);
}

/** An emit answered 200. */
export interface AcceptedEmit {
  userId: string;
  eventId: string;
  answeredAt: number;
}

/** Emits running in the background, and their answers so far. */
export interface SteadyEmits {
  accepted: AcceptedEmit[];
  /** Answers 503 BUS_UNAVAILABLE, with their Retry-After header. */
  refused: { retryAfter: string | null }[];
  /** Any other answer, or a request that failed: described for the failure message. */
  unexpected: string[];
  stop(): Promise<void>;
}

/**
 * Emits every 20 ms, going round the instances and the users, and sorts the answers. Each
 * request gives up after 5 s, so `stop` always returns.
 */
export function startSteadyEmits(instances: Instance[], users: User[]): SteadyEmits {
  const emits: Omit<SteadyEmits, 'stop'> = { accepted: [], refused: [], unexpected: [] };
  let running = true;

  const loop = (async () => {
    for (let seq = 0; running; seq += 1) {
      const instance = instances[seq % instances.length]!;
      const user = users[seq % users.length]!;
      await emitOnce(instance, user, seq, emits);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();

  return {
    ...emits,
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function emitOnce(
  instance: Instance,
  user: User,
  seq: number,
  emits: Omit<SteadyEmits, 'stop'>,
): Promise<void> {
  try {
    const response = await fetch(`${instance.url}/api/events/emit`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${TEST_SERVICE_TOKEN}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ userId: user.id, eventType: 'metrics:updated', data: { seq } }),
      signal: AbortSignal.timeout(5000),
    });
    const body = await response.json();
    if (response.status === 200) {
      emits.accepted.push({ userId: user.id, eventId: body.eventId, answeredAt: Date.now() });
    } else if (response.status === 503 && body.code === 'BUS_UNAVAILABLE') {
      emits.refused.push({ retryAfter: response.headers.get('retry-after') });
    } else {
      emits.unexpected.push(`${instance.name}: ${response.status} ${JSON.stringify(body)}`);
    }
  } catch (error) {
    emits.unexpected.push(`${instance.name}: ${(error as Error).message}`);
  }
}
