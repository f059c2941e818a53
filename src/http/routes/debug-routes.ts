import type { FastifyInstance } from 'fastify';
import { PulseError } from '../../errors.js';
import { isUserId } from '../../ids.js';
import { currentUser, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { checkEmitRate, streamsReached } from '../emit-rules.js';
import { describedAs, USER_AUTH } from '../route-docs.js';

const MAX_TEST_MESSAGE_LENGTH = 1000;

/**
 * Routes that show what the gateway is doing. Registered only when EVENTS_DEBUG is on (the
 * default outside production); otherwise they answer 404 like any unknown route.
 */
export async function debugRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { hub, events, stats } = context;
  const signedIn = requireUser(context);

  app.get(
    '/api/events/debug/connections',
    { onRequest: signedIn, schema: describedAs('Open streams by user', USER_AUTH) },
    async (request) => {
      const { opened, closedByReason } = hub.counters();
      const counters = { streamsOpened: opened, streamsClosed: closedByReason };
      const requestedBy = currentUser(request).id;

      // On Redis the answer covers every live instance, with a breakdown per instance; the
      // stream counters are this instance's own.
      if (context.cluster) {
        const view = await context.cluster.view();
        return { success: true, ...view, requestedBy, scope: 'cluster', ...counters };
      }

      return {
        success: true,
        totalUsers: hub.totalUsers,
        totalConnections: hub.totalConnections,
        users: hub.connectionsByUser(),
        requestedBy,
        scope: 'instance',
        ...counters,
      };
    },
  );

  app.get(
    '/api/events/debug/history',
    { onRequest: signedIn, schema: describedAs('What history holds', USER_AUTH) },
    async () => {
      const { historyStore, historySize, historyTtlMs, historyMaxBytes } = context.config;
      const usage = await context.history.usage();

      return {
        success: true,
        history: {
          store: context.bus ? 'redis' : historyStore,
          ...usage,
          limits: {
            eventsPerUser: historySize,
            ttlMs: historyTtlMs,
            maxBytes: historyStore === 'memory' ? historyMaxBytes : null,
          },
        },
      };
    },
  );

  app.get<{ Params: { userId?: string } }>(
    '/api/events/debug/count/:userId?',
    { onRequest: signedIn, schema: describedAs('Open streams of a user', USER_AUTH) },
    async (request) => {
      const userId = (request.params.userId || currentUser(request).id).toLowerCase();
      if (!isUserId(userId)) {
        throw new PulseError('VALIDATION_FAILED', 'userId must be 24 hexadecimal characters');
      }
      const connectionCount = context.cluster
        ? await context.cluster.countFor(userId)
        : hub.countFor(userId);

      return { success: true, userId, connectionCount, isConnected: connectionCount > 0 };
    },
  );

  app.post(
    '/api/events/debug/test',
    { onRequest: signedIn, schema: describedAs('Send test:event to your own streams', USER_AUTH) },
    async (request) => {
      if (context.lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
      const userId = currentUser(request).id;
      const message = testMessage(request.body);
      await checkEmitRate(context, userId);

      const result = await events.emit({
        userId,
        type: 'test:event',
        data: { message, requestedBy: userId },
      });
      const { eventId } = result;
      const connectionsNotified = await streamsReached(context, userId, result);

      return {
        success: true,
        message: 'Test event sent',
        eventId,
        sentToConnections: connectionsNotified,
        userId,
        hasActiveConnections: connectionsNotified > 0,
      };
    },
  );

  app.get(
    '/api/events/debug/payload-stats',
    { onRequest: signedIn, schema: describedAs('Frames and bytes written', USER_AUTH) },
    async () => ({
      success: true,
      stats: stats.report(),
    }),
  );
}

function testMessage(body: unknown): string {
  const fallback = 'Test event from Pulse';
  if (body === undefined || body === null) return fallback;

  const message = (body as { message?: unknown }).message;
  if (message === undefined) return fallback;
  if (typeof message !== 'string' || message.length > MAX_TEST_MESSAGE_LENGTH) {
    throw new PulseError(
      'VALIDATION_FAILED',
      `message must be text of at most ${MAX_TEST_MESSAGE_LENGTH} characters`,
    );
  }

  return message;
}
