import type { ConnectionState, PulseClient, PulseEvent } from '../../src/client/index.js';

/** What a client received and went through, for assertions. */
export class ClientRecorder {
  readonly events: PulseEvent<any>[] = [];
  readonly states: ConnectionState[] = [];

  constructor(
    private readonly client: PulseClient,
    types: string[],
  ) {
    for (const type of types) client.on(type, (event) => this.events.push(event));
    client.onStateChange((state) => this.states.push(state));
  }

  /** Ids of the events received, in order. */
  get ids(): (string | undefined)[] {
    return this.events.map((event) => event.id);
  }

  /** Waits until `check` holds, or fails after `timeoutMs`. */
  async until(check: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; state ${this.client.state}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Waits until `count` events arrived. */
  untilEvents(count: number, timeoutMs?: number): Promise<void> {
    return this.until(() => this.events.length >= count, `${count} events`, timeoutMs);
  }

  /** Waits for the client to be connected. */
  untilConnected(timeoutMs?: number): Promise<void> {
    return this.until(() => this.client.state === 'CONNECTED', 'CONNECTED', timeoutMs);
  }
}
