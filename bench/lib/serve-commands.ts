import type { Envelope, Report } from './protocol.js';

/**
 * Runs a worker's command loop: each IPC message is an envelope whose answer goes back with
 * the same id. A worker whose coordinator has gone exits, so no load outlives a run.
 */
export function serveCommands(handle: (command: unknown) => Promise<Report> | Report): void {
  process.on('message', (message: Envelope<unknown>) => {
    void answer(message, handle);
  });
  process.on('disconnect', () => process.exit(0));
}

async function answer(
  message: Envelope<unknown>,
  handle: (command: unknown) => Promise<Report> | Report,
): Promise<void> {
  let body: Report;
  try {
    body = await handle(message.body);
  } catch (error) {
    body = { kind: 'error', message: error instanceof Error ? error.message : String(error) };
  }

  process.send?.({ id: message.id, body } satisfies Envelope<Report>);
}
