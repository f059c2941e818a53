import { startPulse, type Pulse } from '../app.js';
import { ConfigError } from '../config.js';
import type { ResolvedConfig } from '../http/context.js';
import { createLogger, dropUnwrittenLines, writeWaitingLines, type Logger } from '../log.js';
import { loadCommandConfig } from './environment.js';

/** `pulse serve`: runs the service until SIGTERM, SIGINT or SIGHUP. */
export async function serve(): Promise<void> {
  const { config, file, generated } = loadCommandConfig();
  const logger = createLogger(config.logLevel);

  if (file) {
    const hint = 'set JWT_SECRET and SERVICE_TOKEN to choose your own';
    logger.warn({ file, hint }, generated ? 'secrets generated' : 'secrets loaded from file');
  }
  if (config.production && config.eventsDebug) {
    logger.warn({ variable: 'EVENTS_DEBUG' }, 'debug routes are on in production');
  }

  const pulse = await listen(config, logger);
  logger.info({ url: pulse.url, database: databaseKind(config.databaseUrl) }, 'pulse listening');
  if (!config.production) logGettingStarted(logger, pulse.url);

  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    // A last resort: whatever happens, the process is gone by SHUTDOWN_TIMEOUT_MS.
    setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out');
      exitAfterLogs(logger, 1);
    }, config.shutdownTimeoutMs).unref();
    pulse.close().then(
      () => exitAfterLogs(logger, 0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        exitAfterLogs(logger, 1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // A closed terminal: by default it would end the process at once, with the lines still
  // waiting for their batch.
  process.once('SIGHUP', stop);
}

// The logger writes asynchronously: let the lines still on their way leave, in order, before
// the process goes, but never wait for a stdout that does not drain.
const LOG_FLUSH_LIMIT_MS = 1_000;

function exitAfterLogs(logger: Logger, code: number): void {
  const exit = () => process.exit(code);
  // Should the loop empty before either fires, the process still ends with this code.
  process.exitCode = code;
  setTimeout(() => {
    dropUnwrittenLines(logger);
    exit();
  }, LOG_FLUSH_LIMIT_MS).unref();
  logger.flush(exit);
}

// A host that does not resolve or a port in use are configuration mistakes: name the variable.
async function listen(config: ResolvedConfig, logger: Logger): Promise<Pulse> {
  try {
    return await startPulse({ config, logger });
  } catch (error) {
    // The error is printed to stderr next; the lines logged before it go out first.
    writeWaitingLines(logger);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      throw new ConfigError('PORT', `cannot listen on port ${config.port} (${code})`);
    }
    if (code === 'ENOTFOUND' || code === 'EADDRNOTAVAIL' || code === 'EAI_AGAIN') {
      throw new ConfigError('HOST', `cannot listen on "${config.host}" (${code})`);
    }
    throw error;
  }
}

// The URL may hold a password: log only which kind of database is in use.
function databaseKind(url: string): string {
  return url.startsWith('sqlite:') ? url : 'postgres';
}

function logGettingStarted(logger: Logger, url: string): void {
  const pulse = 'npm run -s pulse --';
  const token = `$(${pulse} token you@example.com)`;

  logger.info(
    {
      createUser: `${pulse} user add --email you@example.com --password 'a-long-password'`,
      openStream: `curl -N -H "Authorization: Bearer ${token}" ${url}/api/events/stream`,
    },
    'to try it, create a user, then open a stream with a token',
  );
}
