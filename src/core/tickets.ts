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

/** Why no ticket was issued: the book is full, or this user holds their share already. */
export type TicketRefusal = 'full' | 'user-limit';

/** Issues and redeems stream tickets: in process, or shared by every instance (Redis). */
export interface TicketIssuer {
  readonly lifetimeSeconds: number;
  issue(holder: TicketHolder): string | TicketRefusal | Promise<string | TicketRefusal>;
  redeem(ticket: string): TicketHolder | undefined | Promise<TicketHolder | undefined>;
}

/**
 * Single-use stream tickets, so a long-lived JWT never has to travel in a URL. Tickets live in
 * a map in creation order; all have the same lifetime, so the expired ones are always at its
 * front and are swept there, with no timer. The number outstanding is capped, in all and per
 * user, so one user cannot use up everyone's tickets.
 */
export class TicketBook implements TicketIssuer {
  readonly #lifetimeMs: number;
  readonly #maxOutstanding: number;
  readonly #maxPerUser: number;
  readonly #tickets = new Map<string, Ticket>();
  readonly #outstandingByUser = new Map<string, number>();

  constructor(lifetimeMs: number, maxOutstanding: number, maxPerUser: number) {
    this.#lifetimeMs = lifetimeMs;
    this.#maxOutstanding = maxOutstanding;
    this.#maxPerUser = maxPerUser;
  }

  /** Lifetime of a ticket, in seconds. */
  get lifetimeSeconds(): number {
    return Math.round(this.#lifetimeMs / 1000);
  }

  /** Issues a ticket, or says why not. */
  issue(holder: TicketHolder, now = Date.now()): string | TicketRefusal {
    this.#sweep(now);
    if (this.#tickets.size >= this.#maxOutstanding) return 'full';
    const held = this.#outstandingByUser.get(holder.userId) ?? 0;
    if (held >= this.#maxPerUser) return 'user-limit';

    const ticket = randomBytes(24).toString('base64url');
    this.#tickets.set(ticket, { ...holder, expiresAt: now + this.#lifetimeMs });
    this.#outstandingByUser.set(holder.userId, held + 1);

    return ticket;
  }

  /** Uses a ticket up; undefined when it is unknown, used or expired. */
  redeem(ticket: string, now = Date.now()): TicketHolder | undefined {
    this.#sweep(now);
    const found = this.#tickets.get(ticket);
    if (!found) return undefined;

    this.#forget(ticket, found.userId);
    return { userId: found.userId, tokenExpiresAt: found.tokenExpiresAt };
  }

  #sweep(now: number): void {
    for (const [ticket, { expiresAt, userId }] of this.#tickets) {
      if (expiresAt > now) return;
      this.#forget(ticket, userId);
    }
  }

  #forget(ticket: string, userId: string): void {
    this.#tickets.delete(ticket);
    const held = (this.#outstandingByUser.get(userId) ?? 1) - 1;
    if (held > 0) this.#outstandingByUser.set(userId, held);
    else this.#outstandingByUser.delete(userId);
  }
}
