import { randomBytes } from 'node:crypto';

/** What a ticket stands for: a user, and the expiry of the token that asked for it. */
export interface TicketHolder {
  userId: string;
  /** Seconds since the epoch, from the JWT; undefined when the JWT had none. */
  tokenExpiresAt: number | undefined;
}

interface Ticket extends TicketHolder {
  expiresAt: number;
}

/**
 * Single-use stream tickets, so a long-lived JWT never has to travel in a URL. Tickets live in
 * a map in creation order; all have the same lifetime, so the expired ones are always at its
 * front and are swept there, with no timer. The number outstanding is capped.
 */
export class TicketBook {
  readonly #lifetimeMs: number;
  readonly #maxOutstanding: number;
  readonly #tickets = new Map<string, Ticket>();

  constructor(lifetimeMs: number, maxOutstanding: number) {
    this.#lifetimeMs = lifetimeMs;
    this.#maxOutstanding = maxOutstanding;
  }

  /** Lifetime of a ticket, in seconds. */
  get lifetimeSeconds(): number {
    return Math.round(this.#lifetimeMs / 1000);
  }

  /** Issues a ticket; undefined when too many are outstanding. */
  issue(holder: TicketHolder, now = Date.now()): string | undefined {
    this.#sweep(now);
    if (this.#tickets.size >= this.#maxOutstanding) return undefined;

    const ticket = randomBytes(24).toString('base64url');
    this.#tickets.set(ticket, { ...holder, expiresAt: now + this.#lifetimeMs });

    return ticket;
  }

  /** Uses a ticket up; undefined when it is unknown, used or expired. */
  redeem(ticket: string, now = Date.now()): TicketHolder | undefined {
    this.#sweep(now);
    const found = this.#tickets.get(ticket);
    if (!found) return undefined;

    this.#tickets.delete(ticket);
    return { userId: found.userId, tokenExpiresAt: found.tokenExpiresAt };
  }

  #sweep(now: number): void {
    for (const [ticket, { expiresAt }] of this.#tickets) {
      if (expiresAt > now) return;
      this.#tickets.delete(ticket);
    }
  }
}
