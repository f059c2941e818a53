import cors from '@fastify/cors';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { answerClientError, answerFrameworkError } from './client-errors.js';
import type { Registry } from 'prom-client';
import { PulseError } from '../errors.js';
import type { AppContext } from './context.js';
import { installErrorHandling } from './error-handler.js';
import { registerOpenApi } from './openapi.js';
import { installRequestLogging } from './request-log.js';
import { analyticsRoutes } from './routes/analytics-routes.js';
import { authRoutes } from './routes/auth-routes.js';
import { batchRoutes } from './routes/batch-routes.js';
import { dashboardRoutes } from './routes/dashboard-routes.js';
import { debugRoutes } from './routes/debug-routes.js';
import { emitRoutes } from './routes/emit-routes.js';
import { goalsRoutes } from './routes/goals-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { importRoutes } from './routes/import-routes.js';
import { metricsRoutes } from './routes/metrics-routes.js';
import { serviceRoutes } from './routes/service-routes.js';
import { streamRoutes } from './routes/stream-routes.js';

// Requests other than emits are small: sign-up forms and debug calls.
const DEFAULT_BODY_LIMIT = 64 * 1024;

/**
 * Builds the HTTP server around an application context; the caller listens and closes. With
 * `metrics`, `GET /metrics` serves it (METRICS_ENABLED).
 */
export async function buildServer(
  context: AppContext,
  metrics?: Registry,
): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: context.logger as FastifyBaseLogger,
    // Per-request lines are written by request-log.ts instead of Fastify's defaults.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: DEFAULT_BODY_LIMIT,
    // Emitters may send numbers where strings belong; refuse rather than silently convert.
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    // While the server closes, a request still arriving on a busy keep-alive connection is
    // refused by refuseWhileClosing below, in Pulse's own shape; Fastify adds
    // `Connection: close`. Fastify's built-in 503 would answer in a shape of its own.
    return503OnClosing: false,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });

  // Pulse speaks JSON only; other bodies get 415 rather than a confusing validation error.
  app.removeContentTypeParser('text/plain');
  installErrorHandling(app, context.rejections);
  installRequestLogging(app);
  refuseWhileClosing(app, context);
  await registerCors(app, context);
  await registerOpenApi(app);

  await app.register(async (scope) => healthRoutes(scope, context));
  await app.register(async (scope) => authRoutes(scope, context));
  await app.register(async (scope) => streamRoutes(scope, context));
  await app.register(async (scope) => emitRoutes(scope, context));
  await app.register(async (scope) => batchRoutes(scope, context));
  await app.register(async (scope) => serviceRoutes(scope, context));
  await app.register(async (scope) => metricsRoutes(scope, context));
  await app.register(async (scope) => goalsRoutes(scope, context));
  await app.register(async (scope) => importRoutes(scope, context));
  await app.register(async (scope) => analyticsRoutes(scope, context));
  await app.register(async (scope) => dashboardRoutes(scope));
  if (metrics) {
    app.get('/metrics', async (_request, reply) =>
      reply.type(metrics.contentType).send(await metrics.metrics()),
    );
  }
  if (context.config.eventsDebug) {
    await app.register(async (scope) => debugRoutes(scope, context));
  }

  return app;
}

// Only liveness is still answered once the listener closes: the stores are about to close.
function refuseWhileClosing(app: FastifyInstance, context: AppContext): void {
  app.addHook('onRequest', (request, _reply, done) => {
    const refused = context.lifecycle.closing && request.url !== '/healthz';
    done(refused ? new PulseError('SHUTTING_DOWN') : undefined);
  });
}

// A front end on another origin (a dev server on :5173) opens the stream with credentials, so
// the allowed origin is echoed back rather than answered with `*`.
async function registerCors(app: FastifyInstance, context: AppContext): Promise<void> {
  const allowed = context.config.corsOrigins;
  if (allowed.length === 0) return;

  await app.register(cors, {
    origin: allowed.includes('*') ? true : [...allowed],
    credentials: true,
    allowedHeaders: ['Authorization', 'Content-Type', 'Last-Event-ID', 'Idempotency-Key'],
    methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
    maxAge: 600,
  });
}
