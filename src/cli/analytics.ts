import { parseArgs } from 'node:util';
import { runAnalytics } from '../analytics/analytics-job.js';
import { createPulseEmitter } from '../emitter/index.js';
import { openHealthStores } from '../store/open-health-stores.js';
import { loadCommandConfig, print } from './environment.js';

/**
 * `pulse analytics`: computes every user's analytics from the database DATABASE_URL names and
 * sends what changed to a running Pulse through the emitter SDK, with the service token from
 * SERVICE_TOKEN or the development secrets file.
 */
export async function analyticsCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { url: { type: 'string' }, users: { type: 'string' } },
  });

  const { config } = loadCommandConfig();
  const baseUrl = values.url ?? `http://${config.host}:${config.port}`;
  const emitter = createPulseEmitter({ baseUrl, serviceToken: config.serviceToken });
  const userIds = values.users
    ?.split(',')
    .map((id) => id.trim().toLowerCase())
    .filter(Boolean);
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());

  const health = await openHealthStores(config.databaseUrl);
  try {
    const summary = await runAnalytics({
      metrics: health.metrics,
      ledger: health.ledger,
      emitter,
      userIds,
      signal: abort.signal,
    });
    print(JSON.stringify({ analytics: summary }, null, 2));
    if (summary.usersFailed > 0) process.exitCode = 1;
  } finally {
    await health.close();
  }
}
