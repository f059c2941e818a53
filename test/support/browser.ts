import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium; `.ci/run` installs it. */
export const CHROMIUM = '/usr/bin/chromium';

// Chromium reaches no host but the test's own: no background, update, sync or QUIC traffic.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where screenshots go (gitignored). */
export const ARTIFACTS = join(process.cwd(), 'test-artifacts');

/** Headless Chromium with a fresh profile; `close` removes the profile too. */
export async function launchChromium(): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const profile = await mkdtemp(join(tmpdir(), 'pulse-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 20_000,
  });
  await mkdir(ARTIFACTS, { recursive: true });

  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Builds the browser bundle with the project's own script into a temporary folder. */
export async function buildClientBundle(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'pulse-bundle-'));
  const outfile = join(folder, 'pulse-client.js');
  await promisify(execFile)(process.execPath, ['scripts/build-client.mjs', outfile]);

  return readFile(outfile, 'utf8');
}

/** A static server on 127.0.0.1 for the test page and the bundle. */
export async function serveStatic(
  files: Record<string, { type: string; body: string }>,
): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const file = files[new URL(request.url ?? '/', 'http://x').pathname];
    if (!file) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' });
    response.end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/**
 * The test page: loads the bundle, and `startPulse(config)` creates a client that records
 * every event and state in `window.pulse` and shows them, for screenshots. With
 * `config.withoutLocks`, the page hides the Web Locks API first, as older browsers lack it.
 */
export const TEST_PAGE = `<!doctype html>
<html>
<head><meta charset="utf-8"><title>Pulse client test page</title>
<style>body{font:14px sans-serif;margin:16px}li{font-family:monospace}</style></head>
<body>
<h1>Pulse client</h1>
<p>State: <strong id="state">NOT_INITIALIZED</strong>, leader: <span id="leader">?</span></p>
<ol id="events"></ol>
<script type="module">
import { createPulseClient } from './pulse-client.js';
window.startPulse = (config) => {
  if (config.withoutLocks) Object.defineProperty(navigator, 'locks', { value: undefined });
  const record = { events: [], states: [] };
  const show = () => {
    document.getElementById('state').textContent = client.state;
    document.getElementById('leader').textContent = String(client.isLeader);
  };
  const client = createPulseClient({
    baseUrl: config.baseUrl,
    getToken: async () => config.token,
    shareAcrossTabs: config.shareAcrossTabs,
    onStateChange: (state) => { record.states.push(state); show(); },
  });
  for (const type of config.types) {
    client.on(type, (event) => {
      record.events.push({ type: event.type, id: event.id, data: event.data });
      const item = document.createElement('li');
      item.textContent = event.type + ' #' + event.id + ' ' + JSON.stringify(event.data);
      document.getElementById('events').append(item);
      show();
    });
  }
  setInterval(show, 100);
  window.pulse = { client, record };
};
</script>
</body>
</html>`;
