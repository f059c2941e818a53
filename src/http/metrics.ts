import { createServer, type Server } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext } from './context.js';

/** Buckets of the emit→write histogram, in seconds: sub-millisecond up to a second. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 1];

/** Creates the histogram that EventService feeds, in its own registry. */
export function createMetricsRegistry(): { registry: Registry; emitLatency: Histogram } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'pulse_process_' });
  const emitLatency = new Histogram({
    name: 'pulse_emit_to_write_seconds',
    help: 'Time from an accepted emit to its frames being written to every stream',
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });

  return { registry, emitLatency };
}

/**
 * Registers the gauges and counters that read Pulse's own counters when scraped, so the hot
 * paths pay nothing for them. Counters here are "set" to running totals kept by the core.
 */
export function registerPulseMetrics(registry: Registry, context: AppContext): void {
  const { hub, events, stats, history, rejections } = context;
  const registers = [registry];

  new Gauge({
    name: 'pulse_streams_open',
    help: 'Streams open now',
    registers,
    collect() {
      this.set(hub.totalConnections);
    },
  });
  new Counter({
    name: 'pulse_streams_opened_total',
    help: 'Streams opened since start',
    registers,
    collect() {
      this.reset();
      this.inc(hub.counters().opened);
    },
  });
  totalsByLabel(
    registry,
    'pulse_streams_closed_total',
    'Streams closed, by reason',
    'reason',
    () => hub.counters().closedByReason,
  );
  totalsByLabel(registry, 'pulse_events_emitted_total', 'Events emitted, by type', 'type', () =>
    events.emittedByType(),
  );
  totalsByLabel(
    registry,
    'pulse_events_delivered_total',
    'Frames written to streams, by event type (one per stream)',
    'type',
    () => countsByType(stats.report().byEventType),
  );
  new Counter({
    name: 'pulse_bytes_written_total',
    help: 'Bytes of event data written to streams',
    registers,
    collect() {
      this.reset();
      this.inc(stats.report().totalBytes);
    },
  });
  new Counter({
    name: 'pulse_slow_consumers_dropped_total',
    help: 'Streams closed because their client did not keep up',
    registers,
    collect() {
      this.reset();
      this.inc(hub.counters().closedByReason.slow_consumer ?? 0);
    },
  });
  totalsByLabel(
    registry,
    'pulse_requests_rejected_total',
    'Requests refused, by code',
    'code',
    () => rejections.snapshot(),
  );
  new Gauge({
    name: 'pulse_history_events',
    help: 'Events held in history',
    registers,
    async collect() {
      this.set((await history.usage()).events);
    },
  });
  new Gauge({
    name: 'pulse_history_bytes',
    help: 'Approximate bytes held in history',
    registers,
    async collect() {
      this.set((await history.usage()).bytes);
    },
  });
}

function totalsByLabel(
  registry: Registry,
  name: string,
  help: string,
  label: string,
  read: () => Record<string, number>,
): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, total] of Object.entries(read())) this.inc({ [label]: value }, total);
    },
  });
}

function countsByType(byType: Record<string, { count: number }>): Record<string, number> {
  return Object.fromEntries(Object.entries(byType).map(([type, row]) => [type, row.count]));
}

/** Serves `/metrics` alone on its own port (METRICS_PORT), away from the public API. */
export async function serveMetrics(
  registry: Registry,
  host: string,
  port: number,
): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404, { 'Content-Type': 'application/json' });
      response.end('{"success":false,"message":"No such route","code":"NOT_FOUND"}');
      return;
    }

    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'Content-Type': registry.contentType });
        response.end(text);
      },
      () => {
        response.writeHead(500, { 'Content-Type': 'application/json' });
        response.end('{"success":false,"message":"Metrics failed","code":"INTERNAL_ERROR"}');
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });

  return server;
}
