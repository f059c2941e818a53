import type { FastifyRequest } from 'fastify';
import { PulseError } from '../errors.js';
import type { PublicUser } from '../store/user-store.js';
import type { AppContext } from './context.js';

/** The signed-in user of a request, with the expiry of the token that proved it. */
export interface RequestUser extends PublicUser {
  tokenExpiresAt: number | undefined;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by `requireUser`. */
    user?: RequestUser;
  }
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(header);

  return match?.[1];
}

function bearer(request: FastifyRequest): string | undefined {
  return bearerToken(request.headers.authorization);
}

// The header comes first; `?token=` exists because browsers' EventSource cannot set headers.
function userToken(request: FastifyRequest): string | undefined {
  const fromHeader = bearer(request);
  if (fromHeader) return fromHeader;

  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;

  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined;
}

/** Builds the pre-handler that admits requests carrying a valid JWT of an existing user. */
export function requireUser(context: AppContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = userToken(request);
    if (!token) throw new PulseError('TOKEN_MISSING');

    const verified = context.tokens.verify(token);
    const user = await context.store.findById(verified.userId);
    if (!user) throw new PulseError('USER_NOT_FOUND');

    request.user = {
      id: user.id,
      email: user.email,
      name: user.name,
      tokenExpiresAt: verified.expiresAt,
    };
  };
}

/**
 * Builds the pre-handler for the stream: a single-use `?ticket=` (so no JWT travels in a URL),
 * or else a JWT as for any user route.
 */
export function requireStreamUser(context: AppContext) {
  const withToken = requireUser(context);

  return async (request: FastifyRequest): Promise<void> => {
    const query = request.query as Record<string, unknown> | undefined;
    const ticket = query?.ticket;
    if (ticket === undefined) return withToken(request);

    const holder = typeof ticket === 'string' ? await context.tickets.redeem(ticket) : undefined;
    if (!holder) throw new PulseError('TICKET_INVALID');
    // The ticket outlives nothing: a JWT that expired since it asked for one opens nothing.
    const expiresAt = holder.tokenExpiresAt;
    if (expiresAt !== undefined && expiresAt * 1000 <= Date.now()) {
      throw new PulseError('TOKEN_EXPIRED');
    }
    const user = await context.store.findById(holder.userId);
    if (!user) throw new PulseError('USER_NOT_FOUND');

    const { id, email, name } = user;
    request.user = { id, email, name, tokenExpiresAt: holder.tokenExpiresAt };
  };
}

/** Builds the pre-handler that admits backend services holding the shared service token. */
export function requireService(context: AppContext) {
  return async (request: FastifyRequest): Promise<void> => {
    const token = bearer(request);
    if (!token || !context.isServiceToken(token)) throw new PulseError('SERVICE_TOKEN_INVALID');
  };
}

/** The signed-in user; only for routes behind `requireUser`. */
export function currentUser(request: FastifyRequest): RequestUser {
  if (!request.user) throw new PulseError('TOKEN_MISSING');

  return request.user;
}
