import type { PulseClientOptions } from './client-api.js';
import { requestStreamTicket, routeUrl, StreamRequestError } from './stream-ticket.js';

/**
 * How the client gets through the stream's door: it holds the app's token, asks `getToken()`
 * for a new one only when the old one was refused or expired, and builds each connection's URL
 * with a fresh ticket (or the token itself, when tickets are off).
 */
export class StreamAccess {
  readonly #options: PulseClientOptions;
  #token: string | undefined;

  constructor(options: PulseClientOptions) {
    this.#options = options;
  }

  /** The token was refused or expired: the next connection asks the app for a new one. */
  tokenRefused(): void {
    this.#token = undefined;
  }

  /** The URL of the next connection, resuming after `lastEventId` when there is one. */
  async streamUrl(lastEventId: string | undefined): Promise<string> {
    const url = routeUrl(this.#options.baseUrl, '/api/events/stream');
    const filter = this.#options.filter ?? [];
    if (filter.length > 0) url.searchParams.set('events', filter.join(','));
    // A new EventSource cannot set Last-Event-ID; Pulse reads `?lastEventId=` instead.
    if (lastEventId !== undefined) url.searchParams.set('lastEventId', lastEventId);

    if (this.#options.useTickets === false) {
      url.searchParams.set('token', await this.#currentToken());
    } else {
      url.searchParams.set('ticket', await this.#ticket());
    }

    return url.toString();
  }

  // A cached token may have been revoked or expired since; one refusal earns one fresh token.
  async #ticket(): Promise<string> {
    const fetchImpl = this.#options.fetch ?? globalThis.fetch.bind(globalThis);
    const cached = this.#token !== undefined;
    try {
      return await requestStreamTicket(
        this.#options.baseUrl,
        await this.#currentToken(),
        fetchImpl,
      );
    } catch (error) {
      if (!(error instanceof StreamRequestError) || !error.isAuthFailure) throw error;
      this.tokenRefused();
      if (!cached) throw error;

      return requestStreamTicket(this.#options.baseUrl, await this.#currentToken(), fetchImpl);
    }
  }

  async #currentToken(): Promise<string> {
    this.#token ??= await this.#options.getToken();

    return this.#token;
  }
}
