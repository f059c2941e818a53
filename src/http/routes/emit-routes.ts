import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../log.js';
import { requireService } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { SERVICE_AUTH } from '../route-docs.js';
import { emitEvent } from '../emit-event.js';
import {
  EMIT_FIELD_MESSAGES,
  EMIT_ITEM_SCHEMA,
  EMIT_PATH,
  IDEMPOTENCY_KEY_SCHEMA,
  type EmitItem,
} from '../emit-rules.js';

const emitSchema = {
  summary: 'Send one event to every open stream of a user',
  security: SERVICE_AUTH,
  body: EMIT_ITEM_SCHEMA,
  headers: {
    type: 'object',
    properties: { 'idempotency-key': IDEMPOTENCY_KEY_SCHEMA },
  },
  // A response schema lets Fastify serialize the answer with a compiled function.
  response: {
    200: {
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        message: { type: 'string' },
        userId: { type: 'string' },
        eventType: { type: 'string' },
        eventId: { type: 'string' },
        connectionsNotified: { type: 'integer' },
        connectionsScope: { type: 'string', enum: ['instance', 'cluster'] },
        hasActiveConnections: { type: 'boolean' },
        duplicate: { type: 'boolean' },
        batchSize: { type: 'integer' },
      },
    },
  },
};

/** The emit route for backend services. */
export async function emitRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  app.post<{ Body: EmitItem }>(
    EMIT_PATH,
    {
      onRequest: requireService(context),
      bodyLimit: context.config.maxEventBytes,
      schema: emitSchema,
      config: { fieldMessages: EMIT_FIELD_MESSAGES },
    },
    async (request) =>
      emitEvent(context, request.body, request.headers['idempotency-key'], request.log as Logger),
  );
}
