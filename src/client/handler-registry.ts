import type { PulseEvent, PulseEventHandler } from './event-types.js';

/** The app's handlers by event type. */
export class HandlerRegistry {
  readonly #handlers = new Map<string, Set<PulseEventHandler<any>>>();
  readonly #onError: (error: unknown, type: string) => void;

  constructor(onError: ((error: unknown, type: string) => void) | undefined) {
    this.#onError = onError ?? rethrowLater;
  }

  /** Adds a handler; returns whether its type is new. */
  add(type: string, handler: PulseEventHandler<any>): boolean {
    const existing = this.#handlers.get(type);
    if (existing) {
      existing.add(handler);
      return false;
    }

    this.#handlers.set(type, new Set([handler]));
    return true;
  }

  /** Removes a handler. */
  remove(type: string, handler: PulseEventHandler<any>): void {
    const existing = this.#handlers.get(type);
    existing?.delete(handler);
    if (existing?.size === 0) this.#handlers.delete(type);
  }

  /** Types with at least one handler. */
  types(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Calls each handler of the event's type; one that throws does not stop the others. */
  dispatch(event: PulseEvent<unknown>): void {
    const handlers = this.#handlers.get(event.type);
    if (!handlers) return;

    for (const handler of [...handlers]) {
      try {
        handler(event);
      } catch (error) {
        this.#onError(error, event.type);
      }
    }
  }
}

// The HTML standard reports an exception thrown by an event listener and goes on with the next
// listener ("inner invoke", step "report the exception"); rethrowing from a fresh task does that.
function rethrowLater(error: unknown): void {
  setTimeout(() => {
    throw error;
  }, 0);
}
