import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PulseError } from '../../errors.js';

// Both src/http/routes and dist/http/routes sit three levels under the package root.
const PACKAGE_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PUBLIC_FOLDER = join(PACKAGE_ROOT, 'public');
/** Where `npm run build` writes the client SDK's browser bundle. */
export const CLIENT_BUNDLE = join(PACKAGE_ROOT, 'dist', 'client', 'pulse-client.js');

// A flat name with a known extension: nothing outside the folder can be named.
const ASSET_NAME = /^[a-z0-9-]+\.(js|css|svg)$/;

const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

// The page loads only its own scripts and styles and talks only to this origin, so injected
// markup could neither run a script nor send a token elsewhere.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Assets change with every deploy and are small: revalidate rather than guess lifetimes.
  'cache-control': 'no-cache',
};

const hidden = { schema: { hide: true } };

/**
 * The live dashboard: plain HTML, CSS and ES modules from `public/`, plus the client SDK's
 * browser bundle from `dist/client/` (built by `npm run build`). Nothing to build for the page
 * itself.
 */
export async function dashboardRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', hidden, async (_request, reply) => {
    return send(reply, join(PUBLIC_FOLDER, 'index.html'), 'html');
  });

  app.get<{ Params: { name: string } }>('/dashboard/:name', hidden, async (request, reply) => {
    const { name } = request.params;
    const match = ASSET_NAME.exec(name);
    if (!match) throw new PulseError('NOT_FOUND', `No dashboard file ${name}`);

    const path = name === 'pulse-client.js' ? CLIENT_BUNDLE : join(PUBLIC_FOLDER, name);
    return send(reply, path, match[1]!);
  });
}

async function send(reply: FastifyReply, path: string, extension: string): Promise<FastifyReply> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    const hint = path === CLIENT_BUNDLE ? ' (run npm run build to make it)' : '';
    throw new PulseError(
      'NOT_FOUND',
      `No dashboard file ${path.slice(PACKAGE_ROOT.length)}${hint}`,
    );
  }

  return reply.headers(SECURITY_HEADERS).type(CONTENT_TYPES[extension]!).send(body);
}
