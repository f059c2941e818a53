import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import {
  ARTIFACTS,
  buildClientBundle,
  launchChromium,
  serveStatic,
  TEST_PAGE,
} from './support/browser.js';
import { call, emit, registerUser, startTestServer, type TestServer } from './support/server.js';

const TIMEOUT = { timeout: 60_000 };

interface PageRecord {
  events: { type: string; id: string; data: { index: number } }[];
  states: string[];
}

let chromium: { context: BrowserContext; close(): Promise<void> };
let site: { origin: string; close(): Promise<void> };

before(async () => {
  const bundle = await buildClientBundle();
  site = await serveStatic({
    '/': { type: 'text/html', body: TEST_PAGE },
    '/pulse-client.js': { type: 'text/javascript', body: bundle },
  });
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  await site?.close();
});

function serverEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { CORS_ORIGINS: site.origin, SHUTDOWN_TIMEOUT_MS: '400', ...extra };
}

async function openPage(config: Record<string, unknown>): Promise<Page> {
  const page = await chromium.context.newPage();
  await page.goto(`${site.origin}/`);
  await page.evaluate((given) => (window as any).startPulse(given), config);

  return page;
}

function recordOf(page: Page): Promise<PageRecord> {
  return page.evaluate(() => (window as any).pulse.record as PageRecord);
}

async function waitForEvents(page: Page, count: number): Promise<string[]> {
  await page.waitForFunction((n) => (window as any).pulse.record.events.length >= n, count, {
    timeout: 20_000,
  });

  return (await recordOf(page)).events.map((event) => event.id);
}

function waitForState(page: Page, state: string): Promise<unknown> {
  return page.waitForFunction((want) => (window as any).pulse.client.state === want, state, {
    timeout: 20_000,
  });
}

async function emitIndexes(server: TestServer, userId: string, from: number, to: number) {
  const ids: string[] = [];
  for (let index = from; index < to; index += 1) {
    const { body } = await emit(server.url, {
      userId,
      eventType: 'metrics:updated',
      data: { index },
    });
    ids.push(body.eventId);
  }

  return ids;
}

describe('client SDK in Chromium', () => {
  test('receives events, survives a server restart and resumes', TIMEOUT, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pulse-browser-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const env = serverEnv({ HISTORY_STORE: 'database' });
    const first = await startTestServer(env, { dataDir });
    const port = new URL(first.url).port;
    const user = await registerUser(first.url);
    const page = await openPage({
      baseUrl: first.url,
      token: user.token,
      types: ['metrics:updated'],
    });
    t.after(() => page.close());
    await waitForState(page, 'CONNECTED');

    const before = await emitIndexes(first, user.id, 0, 2);
    await waitForEvents(page, 2);
    await page.screenshot({ path: join(ARTIFACTS, 'browser-before-restart.png') });
    await first.stop();
    const second = await startTestServer({ ...env, PORT: port }, { dataDir });
    t.after(() => second.stop());
    const during = await emitIndexes(second, user.id, 2, 4);
    await waitForEvents(page, 4);
    const live = await emitIndexes(second, user.id, 4, 5);
    const ids = await waitForEvents(page, 5);
    await page.screenshot({ path: join(ARTIFACTS, 'browser-after-restart.png') });

    assert.deepEqual(ids, [...before, ...during, ...live]);
    const { states } = await recordOf(page);
    assert.ok(states.includes('RECONNECTING'), states.join(' '));
    assert.equal(states.at(-1), 'CONNECTED');
  });

  for (const withoutLocks of [false, true]) {
    const election = withoutLocks ? 'BroadcastChannel' : 'Web Locks';
    test(`three tabs share one stream, elected with ${election}`, TIMEOUT, async (t) => {
      const server = await startTestServer(serverEnv());
      t.after(() => server.stop());
      const user = await registerUser(server.url);
      const config = {
        baseUrl: server.url,
        token: user.token,
        types: ['metrics:updated'],
        shareAcrossTabs: true,
        withoutLocks,
      };
      const tabs = [await openPage(config), await openPage(config), await openPage(config)];
      t.after(() => Promise.all(tabs.map((tab) => tab.close())));
      for (const tab of tabs) await waitForState(tab, 'CONNECTED');
      const locks = await tabs[0]!.evaluate(() => typeof navigator.locks?.request);
      assert.equal(locks, withoutLocks ? 'undefined' : 'function');
      const count = () => call(`${server.url}/api/events/debug/count`, { token: user.token });
      assert.equal((await count()).body.connectionCount, 1, 'one stream for three tabs');

      const first = await emitIndexes(server, user.id, 0, 3);
      for (const tab of tabs) assert.deepEqual(await waitForEvents(tab, 3), first);
      const leaders = await Promise.all(
        tabs.map((tab) => tab.evaluate(() => (window as any).pulse.client.isLeader as boolean)),
      );
      assert.equal(leaders.filter(Boolean).length, 1, `leaders: ${leaders.join(',')}`);
      const leader = tabs[leaders.indexOf(true)]!;
      const others = tabs.filter((tab) => tab !== leader);

      await leader.close();
      const during = await emitIndexes(server, user.id, 3, 5);
      for (const tab of others) await waitForEvents(tab, 5);
      const later = await emitIndexes(server, user.id, 5, 6);
      for (const [index, tab] of others.entries()) {
        assert.deepEqual(await waitForEvents(tab, 6), [...first, ...during, ...later]);
        const name = `browser-tabs-${withoutLocks ? 'broadcast' : 'locks'}-${index}.png`;
        await tab.screenshot({ path: join(ARTIFACTS, name) });
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const tab of others) assert.equal((await recordOf(tab)).events.length, 6, 'no repeats');
      assert.equal((await count()).body.connectionCount, 1, 'one stream after the handover');
    });
  }
});
