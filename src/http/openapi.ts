import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** Where the generated OpenAPI document is served. */
export const OPENAPI_PATH = '/api/docs/openapi.json';

/**
 * Generates an OpenAPI 3.1 document from the route schemas (so the description cannot drift
 * from what the routes validate) and serves it with readable docs at `/api/docs`. Must be
 * registered before the routes it describes.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Pulse',
        version: '0.1.0',
        description:
          'Real-time event gateway: per-user Server-Sent Events streams fed by backend ' +
          'services. Errors are {success: false, message, code}; see the README for codes.',
      },
      components: {
        securitySchemes: {
          userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
          serviceToken: { type: 'http', scheme: 'bearer' },
        },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true });

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}
