/** A request of the client's that Pulse refused or never answered. */
export class StreamRequestError extends Error {
  override readonly name = 'StreamRequestError';
  /** The HTTP status; undefined when no answer arrived. */
  readonly status: number | undefined;
  /** Pulse's error code (`TOKEN_EXPIRED`, …), `HTTP_<status>` without one, or `NETWORK_ERROR`. */
  readonly code: string;

  constructor(message: string, code: string, status?: number, cause?: unknown) {
    super(message, { cause });
    this.code = code;
    this.status = status;
  }

  /** Whether a fresh token may help: the server refused the token (401). */
  get isAuthFailure(): boolean {
    return this.status === 401;
  }
}

/** Resolves Pulse's routes against the base URL; an empty base means this page's origin. */
export function routeUrl(baseUrl: string, route: string): URL {
  const base = baseUrl.replace(/\/+$/, '');
  const origin = (globalThis as { location?: { href: string } }).location?.href;

  return base === '' && origin ? new URL(route, origin) : new URL(base + route);
}

/**
 * Asks Pulse for a single-use stream ticket with the JWT in the Authorization header, so the
 * JWT itself never travels in the stream's URL (where proxies and histories keep it).
 */
export async function requestStreamTicket(
  baseUrl: string,
  token: string,
  fetchImpl: typeof fetch,
): Promise<string> {
  let response: Response;
  let body: { ticket?: unknown; code?: unknown; message?: unknown } | undefined;
  try {
    response = await fetchImpl(routeUrl(baseUrl, '/api/events/ticket'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    body = (await response.json().catch(() => undefined)) as typeof body;
  } catch (error) {
    throw new StreamRequestError('stream ticket request failed', 'NETWORK_ERROR', undefined, error);
  }

  if (!response.ok || typeof body?.ticket !== 'string') {
    const code = typeof body?.code === 'string' ? body.code : `HTTP_${response.status}`;
    const detail = typeof body?.message === 'string' ? `: ${body.message}` : '';
    throw new StreamRequestError(`stream ticket refused${detail}`, code, response.status);
  }

  return body.ticket;
}
