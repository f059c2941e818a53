import { parseArgs } from 'node:util';
import { createHttpReplayClient } from '../replay/http-replay-client.js';
import { runReplay, type ReplayMode } from '../replay/replay.js';
import { loadCommandConfig, print } from './environment.js';

const MODES: ReplayMode[] = ['all', 'daily', 'heartrate'];

/**
 * `pulse replay <folder>`: posts the Fitbit data set to a running Pulse as a backend service
 * would, with the service token from SERVICE_TOKEN or the development secrets file.
 */
export async function replay(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      speed: { type: 'string', default: '1' },
      url: { type: 'string' },
      mode: { type: 'string', default: 'all' },
      participants: { type: 'string' },
      limit: { type: 'string' },
      'day-interval': { type: 'string' },
    },
  });
  const [folder] = positionals;
  if (!folder) throw new Error('expected "pulse replay <folder>"');
  const mode = values.mode as ReplayMode;
  if (!MODES.includes(mode)) throw new Error(`--mode must be one of ${MODES.join(', ')}`);

  const { config } = loadCommandConfig();
  const baseUrl = values.url ?? `http://${config.host}:${config.port}`;
  const client = createHttpReplayClient({ baseUrl, serviceToken: config.serviceToken });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  const summary = await runReplay({
    folder,
    client,
    mode,
    speed: number('--speed', values.speed),
    dayIntervalMs: optionalNumber('--day-interval', values['day-interval']),
    participants: values.participants
      ?.split(',')
      .map((id) => id.trim())
      .filter(Boolean),
    limit: optionalNumber('--limit', values.limit),
    signal: abort.signal,
    print,
    onProgress: reportEvery(500),
  });

  print(JSON.stringify({ summary }, null, 2));
  if (summary.failures > 0) process.exitCode = 1;
}

function number(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || Number.isNaN(value) || value < 0) {
    throw new Error(`${flag} expects a number of 0 or more, got "${text}"`);
  }

  return value;
}

function optionalNumber(flag: string, text: string | undefined): number | undefined {
  return text === undefined ? undefined : number(flag, text);
}

function reportEvery(step: number) {
  return (progress: { attempted: number; total: number; eventsSent: number; failures: number }) => {
    if (progress.attempted % step !== 0 && progress.attempted !== progress.total) return;
    const { attempted, total, eventsSent, failures } = progress;
    print(`progress: ${attempted}/${total} attempted, ${eventsSent} sent, ${failures} failed`);
  };
}
