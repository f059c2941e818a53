import { startPulse } from '../app.js';
import { createLogger, type Logger } from '../log.js';
import { loadCommandConfig } from './environment.js';

/** `pulse serve`: runs the service until SIGTERM or SIGINT. */
export async function serve(): Promise<void> {
  const { config, file, generated } = loadCommandConfig();
  const logger = createLogger(config.logLevel);

  if (file) {
    const message = generated ? 'development secrets generated' : 'development secrets loaded';
    logger.warn({ file }, `${message}; set JWT_SECRET and SERVICE_TOKEN to choose your own`);
  }

  const pulse = await startPulse({ config, logger });
  logger.info({ url: pulse.url, database: databaseKind(config.databaseUrl) }, 'pulse listening');
  if (!config.production) logGettingStarted(logger, pulse.url);

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    pulse.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

// The URL may hold a password: log only which kind of database is in use.
function databaseKind(url: string): string {
  return url.startsWith('sqlite:') ? url : 'postgres';
}

function logGettingStarted(logger: Logger, url: string): void {
  logger.info(
    {
      createUser:
        "npm run -s pulse -- user add --email you@example.com --password 'a-long-password'",
      openStream: `curl -N -H "Authorization: Bearer $(npm run -s pulse -- token you@example.com)" ${url}/api/events/stream`,
    },
    'to try it: create a user, then open a stream with a token',
  );
}
