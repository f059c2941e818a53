import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { parseFitbitTexts } from '../src/replay/fitbit-data.js';
import { createHttpReplayClient } from '../src/replay/http-replay-client.js';
import { replayData, runReplay, type ReplayClient } from '../src/replay/replay.js';

const DATASET = fileURLToPath(new URL('../datasets/fitbit/', import.meta.url));

interface Emitted {
  userId: string;
  eventType: string;
  data: Record<string, unknown>;
}

// An in-memory Pulse: users by email, emitted events in arrival order, injectable failures.
class FakeClient implements ReplayClient {
  readonly usersByEmail = new Map<string, { id: string; name: string }>();
  readonly emitted: Emitted[] = [];
  ensureCalls = 0;
  failEmit: (event: Emitted, attempt: number) => Error | undefined = () => undefined;
  failEnsure: (email: string) => Error | undefined = () => undefined;
  private readonly attempts = new Map<string, number>();

  async ensureUser(email: string, name: string): Promise<{ id: string }> {
    this.ensureCalls += 1;
    const failure = this.failEnsure(email);
    if (failure !== undefined) {
      throw failure;
    }
    let user = this.usersByEmail.get(email);
    if (user === undefined) {
      user = { id: `user-${this.usersByEmail.size + 1}`, name };
      this.usersByEmail.set(email, user);
    }

    return { id: user.id };
  }

  async emit(
    userId: string,
    eventType: string,
    data: object,
  ): Promise<{ connectionsNotified: number }> {
    const event = { userId, eventType, data: data as Record<string, unknown> };
    const key = JSON.stringify(event);
    const attempt = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, attempt);
    const failure = this.failEmit(event, attempt);
    if (failure !== undefined) {
      throw failure;
    }
    this.emitted.push(event);

    return { connectionsNotified: 0 };
  }
}

function failure(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

// Two participants over two days; participant 2 also has heart-rate samples on both days.
const SMALL = parseFitbitTexts({
  dailyActivity: [
    'Id,ActivityDate,TotalSteps,TotalDistance,' +
      'VeryActiveMinutes,FairlyActiveMinutes,LightlyActiveMinutes,Calories',
    '2,4/13/2016,300,3,1,1,1,2300',
    '1,4/12/2016,100,1,1,1,1,2100',
    '2,4/12/2016,200,2,1,1,1,2200',
    '1,4/13/2016,400,4,1,1,1,2400',
  ].join('\r\n'),
  sleepDay: 'Id,SleepDay,TotalMinutesAsleep\r\n1,4/12/2016 0:00,480\r\n',
  heartRate: [
    'Id,Time,Value',
    '2,4/13/2016 8:00:10 AM,82',
    '2,4/12/2016 11:59:50 PM,70',
    '2,4/12/2016 11:59:55 PM,71',
    '2,4/13/2016 8:00:00 AM,80',
  ].join('\r\n'),
});

const label = (event: Emitted): string =>
  `${event.data.participantId} ${event.eventType} ${event.data.date ?? event.data.time}`;

describe('replayData', { timeout: 10_000 }, () => {
  it('sends every event in data set time order, each day closing after its samples', async () => {
    const client = new FakeClient();

    const summary = await replayData(SMALL, { client, speed: 0 });

    assert.deepEqual(client.emitted.map(label), [
      '2 heartrate:recorded 2016-04-12T23:59:50',
      '2 heartrate:recorded 2016-04-12T23:59:55',
      '1 metrics:updated 2016-04-12',
      '2 metrics:updated 2016-04-12',
      '2 heartrate:recorded 2016-04-13T08:00:00',
      '2 heartrate:recorded 2016-04-13T08:00:10',
      '1 metrics:updated 2016-04-13',
      '2 metrics:updated 2016-04-13',
    ]);
    assert.deepEqual(client.emitted[2]?.data, {
      source: 'fitbit',
      participantId: '1',
      date: '2016-04-12',
      steps: 100,
      distance: 1,
      calories: 2100,
      activeMinutes: 3,
      sleepMinutes: 480,
    });
    assert.deepEqual(client.emitted[0]?.data, {
      source: 'fitbit',
      participantId: '2',
      time: '2016-04-12T23:59:50',
      bpm: 70,
    });
    assert.equal(summary.eventsSent, 8);
    assert.deepEqual(summary.byType, { 'heartrate:recorded': 4, 'metrics:updated': 4 });
    assert.equal(summary.failures, 0);
    assert.equal(summary.aborted, false);
  });

  it('maps each participant to one deterministic user and reuses it on a second run', async () => {
    const client = new FakeClient();

    const first = await replayData(SMALL, { client, speed: 0 });
    const second = await replayData(SMALL, { client, speed: 0 });

    assert.deepEqual([...client.usersByEmail.keys()].sort(), [
      'fitbit-1@participants.pulse.local',
      'fitbit-2@participants.pulse.local',
    ]);
    assert.equal(
      client.usersByEmail.get('fitbit-2@participants.pulse.local')?.name,
      'Fitbit participant 2',
    );
    assert.equal(client.ensureCalls, 4);
    assert.equal(first.users, 2);
    assert.deepEqual(second.participants, first.participants);
    const userOf = new Map(first.participants.map((row) => [row.userId, row.participantId]));
    assert.ok(
      client.emitted.every((event) => userOf.get(event.userId) === event.data.participantId),
    );
  });

  it('waits the sample gap divided by speed and the day interval after each day', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number): Promise<void> => {
      waits.push(ms);
    };

    await replayData(SMALL, { client: new FakeClient(), speed: 5, sleep });
    await replayData(SMALL, { client: new FakeClient(), mode: 'heartrate', speed: 5, sleep });
    await replayData(SMALL, { client: new FakeClient(), speed: 5, dayIntervalMs: 7, sleep });

    // all: 5 s gap / 5, then the day pauses (1000 / speed) before the next day, 10 s gap / 5.
    // heartrate alone: the overnight gap of 8 h 0 min 5 s is paced too.
    assert.deepEqual(waits, [1000, 200, 2000, 1000, 5761000, 2000, 1000, 7, 2000]);
  });

  it('paces real time at the given speed', async () => {
    const started = performance.now();

    const summary = await replayData(SMALL, {
      client: new FakeClient(),
      mode: 'heartrate',
      speed: 200_000,
    });

    // The gaps add up to 8 h 0 min 20 s, so at 200,000x the replay takes at least 144 ms.
    assert.equal(summary.eventsSent, 4);
    assert.ok(performance.now() - started >= 140);
  });

  it('stops after the limit and honours the participant filter', async () => {
    const client = new FakeClient();

    const limited = await replayData(SMALL, { client, speed: 0, limit: 3 });
    const filtered = await replayData(SMALL, { client, speed: 0, participants: ['1'] });

    assert.equal(limited.eventsSent, 3);
    assert.equal(filtered.eventsSent, 2);
    assert.deepEqual(client.emitted.slice(3).map(label), [
      '1 metrics:updated 2016-04-12',
      '1 metrics:updated 2016-04-13',
    ]);
  });

  it('counts failed events, retries transient ones and goes on', async () => {
    const client = new FakeClient();
    const waits: number[] = [];
    const printed: string[] = [];
    client.failEmit = (event, attempt) => {
      if (event.data.time === '2016-04-12T23:59:50') {
        return failure('bad data', { status: 400, code: 'VALIDATION_FAILED' });
      }
      if (event.data.time === '2016-04-12T23:59:55' && attempt === 1) {
        return failure('slow down', { status: 429, code: 'RATE_LIMITED', retryAfterMs: 1500 });
      }
      if (event.data.date === '2016-04-13' && event.data.participantId === '1') {
        return failure('unavailable', { status: 503 });
      }

      return undefined;
    };
    const sleep = async (ms: number): Promise<void> => {
      waits.push(ms);
    };

    const summary = await replayData(SMALL, {
      client,
      speed: 0,
      sleep,
      print: (line) => printed.push(line),
    });

    assert.equal(summary.eventsSent, 6);
    assert.equal(summary.failures, 2);
    assert.deepEqual(waits, [1500, 250, 500]);
    assert.deepEqual(printed, [
      'heartrate:recorded for participant 2 failed: bad data (400 VALIDATION_FAILED)',
      'metrics:updated for participant 1 failed: unavailable (503)',
    ]);
    assert.deepEqual(summary.firstErrors, printed);
  });

  it('fails the events of a participant whose user cannot be made, asking once', async () => {
    const client = new FakeClient();
    client.failEnsure = (email) =>
      email.startsWith('fitbit-2@') ? failure('forbidden', { status: 403 }) : undefined;

    const summary = await replayData(SMALL, { client, speed: 0 });

    assert.equal(summary.failures, 6);
    assert.equal(summary.eventsSent, 2);
    assert.equal(client.ensureCalls, 2);
    assert.deepEqual(
      summary.participants.map((row) => row.participantId),
      ['1'],
    );
  });

  it('stops during a wait when the signal aborts and says so', async () => {
    const controller = new AbortController();
    const started = performance.now();

    // At speed 1 the second sample is 5 s after the first; the abort comes 50 ms into that wait.
    const summary = await replayData(SMALL, {
      client: new FakeClient(),
      speed: 1,
      signal: controller.signal,
      onProgress: () => setTimeout(() => controller.abort(), 50),
    });

    assert.equal(summary.eventsSent, 1);
    assert.equal(summary.aborted, true);
    assert.ok(performance.now() - started < 4000);
  });

  it('rejects a negative speed or an unknown mode', async () => {
    const client = new FakeClient();

    await assert.rejects(replayData(SMALL, { client, speed: -1 }), /speed/);
    await assert.rejects(replayData(SMALL, { client, mode: 'hourly' as 'all' }), /mode/);
  });
});

describe('runReplay', { timeout: 20_000 }, () => {
  it('replays the first day of the real data set', async () => {
    const client = new FakeClient();
    const printed: string[] = [];

    const summary = await runReplay({
      folder: DATASET,
      client,
      mode: 'daily',
      speed: 0,
      limit: 33,
      print: (line) => printed.push(line),
    });

    assert.equal(summary.eventsSent, 33);
    assert.equal(summary.users, 33);
    assert.equal(summary.refusedRows, 3);
    assert.ok(client.emitted.every((event) => event.data.date === '2016-04-12'));
    assert.match(printed[0] ?? '', /^loaded 940 daily records and 17666 heart-rate samples/);
  });

  it('talks to a Pulse-shaped HTTP server through the HTTP client', async (t) => {
    const requests: { url: string | undefined; auth: string | undefined; body: unknown }[] = [];
    let rateLimited = false;
    const server = createServer((request, response) => {
      void answer(request, response);
    });
    const answer = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
      let text = '';
      for await (const chunk of request) {
        text += String(chunk);
      }
      requests.push({
        url: request.url,
        auth: request.headers.authorization,
        body: JSON.parse(text),
      });
      const send = (status: number, body: object, headers: Record<string, string> = {}): void => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(JSON.stringify(body));
      };
      if (request.headers.authorization !== 'Bearer service-secret') {
        send(403, { success: false, message: 'bad token', code: 'SERVICE_TOKEN_INVALID' });
      } else if (request.url === '/api/service/users') {
        send(200, { success: true, created: true, user: { id: 'u-7', email: 'e', name: 'n' } });
      } else if (!rateLimited) {
        rateLimited = true;
        send(
          429,
          { success: false, message: 'slow', code: 'RATE_LIMITED' },
          { 'retry-after': '0' },
        );
      } else {
        send(200, { success: true, eventId: String(requests.length), connectionsNotified: 1 });
      }
    };
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const summary = await runReplay({
      folder: DATASET,
      client: createHttpReplayClient({ baseUrl, serviceToken: 'service-secret' }),
      mode: 'heartrate',
      speed: 0,
      limit: 2,
    });
    const refused = await runReplay({
      folder: DATASET,
      client: createHttpReplayClient({ baseUrl: `${baseUrl}/`, serviceToken: 'wrong' }),
      mode: 'heartrate',
      limit: 1,
    });

    assert.equal(summary.eventsSent, 2);
    assert.deepEqual(summary.participants, [
      {
        participantId: '8877689391',
        userId: 'u-7',
        email: 'fitbit-8877689391@participants.pulse.local',
      },
    ]);
    assert.deepEqual(
      requests.slice(0, 3).map((request) => request.url),
      ['/api/service/users', '/api/events/emit', '/api/events/emit'],
    );
    assert.deepEqual(requests[0]?.body, {
      email: 'fitbit-8877689391@participants.pulse.local',
      name: 'Fitbit participant 8877689391',
    });
    const { eventId, ...event } = requests[2]?.body as { eventId: string };
    assert.deepEqual(event, {
      userId: 'u-7',
      eventType: 'heartrate:recorded',
      data: {
        source: 'fitbit',
        participantId: '8877689391',
        time: '2016-05-10T06:55:26',
        bpm: 71,
      },
    });
    assert.match(eventId, /^replay:[0-9a-f-]{36}:[\w-]{32}$/, 'every emit carries a key');
    assert.equal(refused.failures, 1);
    assert.match(
      refused.firstErrors[0] ?? '',
      /answered 403: bad token \(403 SERVICE_TOKEN_INVALID\)/,
    );
  });
});
