import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { runAnalytics } from '../src/analytics/analytics-job.js';
import { createPulseEmitter } from '../src/emitter/index.js';
import { addDays } from '../src/health/calendar.js';
import { ARTIFACTS, launchChromium } from './support/browser.js';
import {
  call,
  registerUser,
  startTestServer,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

const DATASET = fileURLToPath(new URL('../datasets/fitbit/', import.meta.url));

// The stream and its tickets: blocked while the test emits the events the page must miss.
const STREAM_REQUESTS = /\/api\/events\//;

// History in the database, so the restarted server can replay what the page missed.
const SERVER_ENV = { HISTORY_STORE: 'database', SHUTDOWN_TIMEOUT_MS: '1000' };

function localDate(page: Page): Promise<string> {
  return page.evaluate(() => new Date().toLocaleDateString('en-CA'));
}

function connectionState(page: Page, state: string, timeout = 15_000) {
  return page.waitForFunction(
    (expected) => document.getElementById('connection')?.dataset.state === expected,
    state,
    { timeout },
  );
}

describe('the live dashboard in Chromium', { timeout: 120_000 }, () => {
  let dataDir: string;
  let server: TestServer;
  let browser: Awaited<ReturnType<typeof launchChromium>>;

  before(async () => {
    // `npm run build` makes the bundle the page loads; a test run may not have built it.
    await promisify(execFile)(process.execPath, ['scripts/build-client.mjs'], { timeout: 60_000 });
    dataDir = await mkdtemp(join(tmpdir(), 'pulse-dashboard-'));
    server = await startTestServer(SERVER_ENV, { dataDir });
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  test('signs up, follows metrics live, and shows what it missed in an outage', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));

    // Sign up with the keyboard only.
    await page.goto(`${server.url}/`);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    const email = `dashboard-${Date.now()}@example.com`;
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('correct horse battery');
    await page.getByLabel('Name (optional)').fill('Dana');
    await page.getByLabel('Name (optional)').press('Enter');
    await connectionState(page, 'CONNECTED');
    assert.equal(await page.locator('#connection-text').textContent(), 'Live');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-1-live.png'), fullPage: true });

    // Metrics posted through the API appear in place: no reload.
    await page.evaluate(() => Object.assign(window, { loadedOnce: true }));
    const login = await call(`${server.url}/api/auth/login`, {
      body: { email, password: 'correct horse battery' },
    });
    const token = login.body.token as string;
    const today = await localDate(page);
    const yesterday = addDays(today, -1);
    const put = (path: string, body: unknown) =>
      call(`${server.url}${path}`, { method: 'PUT', token, body });
    await put('/api/goals', { dailySteps: 10000 });
    await put(`/api/metrics/${yesterday}`, {
      steps: 12045,
      heartRateAverage: 74.2,
      heartRateResting: 57,
    });
    await put(`/api/metrics/${today}`, {
      steps: 8421,
      heartRateAverage: 71.5,
      heartRateResting: 58.5,
    });

    await page.locator(`#steps-chart rect[data-date="${today}"][data-value="8421"]`).waitFor();
    await page.locator(`#heart-chart circle.dot-average[data-date="${yesterday}"]`).waitFor();
    await page.locator('#event-log li[data-type="metrics:updated"]').nth(1).waitFor();
    assert.equal(
      await page.evaluate(() => (window as any).loadedOnce),
      true,
      'the page did not reload',
    );
    assert.match((await page.locator('#today-metrics').textContent()) ?? '', /8,421/);
    assert.equal(
      await page.locator(`#steps-chart rect.reached[data-date="${yesterday}"]`).count(),
      1,
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-2-updated.png'), fullPage: true });

    // The server stops; while it comes back, the page cannot reach the stream, and misses
    // two events.
    await page.route(STREAM_REQUESTS, (route) => route.abort());
    const port = new URL(server.url).port;
    await server.stop();
    await connectionState(page, 'RECONNECTING');
    await page.waitForFunction(() =>
      /Reconnecting in about \d+ s/.test(
        document.getElementById('connection-text')?.textContent ?? '',
      ),
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-3-reconnecting.png') });

    server = await startTestServer({ ...SERVER_ENV, PORT: port }, { dataDir });
    const twoDaysAgo = addDays(today, -2);
    await put(`/api/metrics/${twoDaysAgo}`, { steps: 4321 });
    await put('/api/goals', { dailySteps: 8000 });
    await page.unroute(STREAM_REQUESTS);

    await connectionState(page, 'CONNECTED', 60_000);
    const resumed = page.locator('#event-log li[data-type="connected"]', {
      hasText: 'reconnected; 2 missed events replayed',
    });
    await resumed.waitFor();
    assert.equal(await page.locator('#event-log li[data-missed="true"]').count(), 2);
    await page.locator(`#steps-chart rect[data-date="${twoDaysAgo}"][data-value="4321"]`).waitFor();
    // The lowered goal arrived too: today's 8,421 steps now reach it.
    await page.locator(`#steps-chart rect.reached[data-date="${today}"]`).waitFor();
    assert.equal(
      await page.evaluate(() => (window as any).loadedOnce),
      true,
      'the page did not reload',
    );
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-4-caught-up.png'), fullPage: true });

    // Analytics sent by the job through the emitter SDK land in their panel.
    const { health } = server.pulse.context;
    const emitter = createPulseEmitter({ baseUrl: server.url, serviceToken: TEST_SERVICE_TOKEN });
    await runAnalytics({ metrics: health.metrics, ledger: health.ledger, emitter });
    await page.locator('#analytics-table tr[data-metric="steps"]').waitFor();
    await page.locator('#event-log li[data-type="analytics:batch_update"]').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-5-analytics.png'), fullPage: true });

    // Usable at phone width, every field labelled.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-6-phone.png') });
    await page.locator('#analytics-title').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-6-phone-analytics.png') });
    const widest = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(widest <= 390, `the page scrolls sideways at phone width (${widest}px)`);
    const unlabelled = await page.evaluate(() =>
      [...document.querySelectorAll('input')]
        .filter((input) => input.labels?.length === 0)
        .map((input) => input.id),
    );
    assert.deepEqual(unlabelled, []);
    assert.deepEqual(problems, []);
  });

  test('shows a real participant of the data set, with analytics arriving live', async () => {
    const user = await registerUser(server.url);
    const files = {
      dailyActivity: await readFile(join(DATASET, 'dailyActivity_merged.csv'), 'utf8'),
      sleepDay: await readFile(join(DATASET, 'sleepDay_merged.csv'), 'utf8'),
      heartRate: await readFile(join(DATASET, 'heartrate_seconds_sample.csv'), 'utf8'),
    };
    await call(`${server.url}/api/import/fitbit`, {
      token: user.token,
      body: { participantId: '8877689391', files },
    });
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });

    await page.goto(`${server.url}/#token=${user.token}`);
    await connectionState(page, 'CONNECTED');
    const { health } = server.pulse.context;
    const emitter = createPulseEmitter({ baseUrl: server.url, serviceToken: TEST_SERVICE_TOKEN });
    await runAnalytics({
      metrics: health.metrics,
      ledger: health.ledger,
      emitter,
      userIds: [user.id],
    });
    await page.locator('#analytics-table tr[data-metric="heartRateResting"]').waitFor();

    assert.equal(await page.locator('#today-title').textContent(), 'Latest day');
    assert.equal(await page.locator('#steps-chart rect').count(), 31);
    assert.equal(await page.locator('#heart-chart circle.dot-resting').count(), 3);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-8-real-data.png'), fullPage: true });
    await page.close();
  });

  test('says when it gives up reconnecting, and connects again from its retry button', async () => {
    const user = await registerUser(server.url);
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 800, height: 600 });
    await page.clock.install();
    await page.route(STREAM_REQUESTS, (route) => route.abort());

    // A token handed over in the fragment signs the page in, and leaves the address bar.
    await page.goto(`${server.url}/#token=${user.token}`);
    await page.locator('#dashboard').waitFor();
    assert.equal(new URL(page.url()).hash, '');
    // Ten failed attempts with backoff up to 32 s: a few minutes of the page's clock.
    for (let step = 0; step < 40; step += 1) {
      await page.clock.runFor(10_000);
      const state = await page.locator('#connection').getAttribute('data-state');
      if (state === 'ERROR') break;
    }
    await connectionState(page, 'ERROR', 5000);
    const retry = page.getByRole('button', { name: 'Retry now' });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-7-error.png') });

    await page.unroute(STREAM_REQUESTS);
    await retry.focus();
    await page.keyboard.press('Enter');
    await connectionState(page, 'CONNECTED', 10_000);
    assert.equal(await retry.isHidden(), true);
    await page.close();
  });
});
