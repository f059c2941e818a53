import type { RunRecord } from './records.js';
import { spread, type Spread } from './samples.js';
import type { ServerKind } from './server-process.js';

/** The median and range of every metric of one scenario on one server. */
export interface Summary {
  readonly scenario: string;
  readonly server: ServerKind;
  readonly runs: number;
  readonly metrics: Record<string, Spread>;
}

/** A target of the issue, and whether this run met it. */
export interface TargetCheck {
  readonly target: string;
  readonly measured: string;
  readonly holds: boolean | undefined;
}

// What a delivery phase shows when the server's and clients' CPU seconds are not the point.
const DELIVERY_SHOWN = [
  'emitsPerSecond',
  'deliveriesPerSecond',
  'p50Ms',
  'p99Ms',
  'maxMs',
  'lost',
  'duplicated',
  'cpuPerDeliveryUs',
];

/** The metrics shown for each scenario, in order; the JSON lines carry all of them. */
const SHOWN: Record<string, string[]> = {
  connect: [
    'streamsPerSecond',
    'failed',
    'cpuSecondsOpening',
    'clientCpuSecondsOpening',
    'socketsHeld',
    'rssPerStreamKiB',
    'rssBeforeMiB',
    'rssWithStreamsMiB',
    'rssAfterCloseMiB',
    'rssKeptFraction',
    'rssAfterCloseCollectedMiB',
    'rssKeptAfterCollectionFraction',
    'rssIdleCollectedMiB',
    'rssKeptWhenIdleFraction',
    'heapCommittedIdleMiB',
    'heapPerStreamKiB',
    'heapBeforeMiB',
    'heapWithStreamsMiB',
    'heapAfterCloseMiB',
    'heapKeptFraction',
  ],
  fanout: [
    'emitsPerSecond',
    'deliveriesPerSecond',
    'p50Ms',
    'p95Ms',
    'p99Ms',
    'maxMs',
    'lost',
    'duplicated',
    'cpuSeconds',
    'cpuPerDeliveryUs',
    'clientCpuSeconds',
  ],
  // Only here, where the cores are mostly idle, does a stall of the probe mean the machine's.
  'fanout-fixed': [
    'emitsPerSecond',
    'p50Ms',
    'p95Ms',
    'p99Ms',
    'maxMs',
    'lost',
    'duplicated',
    'machineStallMs',
  ],
  'broadcast-one': [...DELIVERY_SHOWN, 'cpuSeconds', 'clientCpuSeconds'],
  'broadcast-one-paced': DELIVERY_SHOWN,
  'broadcast-many': DELIVERY_SHOWN,
  emit: ['requestsPerSecond', 'p50Ms', 'p99Ms', 'maxMs', 'non2xx', 'errors', 'cpuPerRequestUs'],
  'ceiling-single': [
    'deliveriesPerSecond',
    'writeRatePerSecond',
    'p99Ms',
    'lost',
    'cpuPerDeliveryUs',
    'clientCpuSeconds',
  ],
  'ceiling-batched': [
    'deliveriesPerSecond',
    'writeRatePerSecond',
    'p99Ms',
    'lost',
    'cpuPerDeliveryUs',
    'clientCpuSeconds',
  ],
};

/** Groups runs by scenario and server and takes medians and ranges. */
export function summarizeRuns(records: readonly RunRecord[]): Summary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const record of records) {
    const key = `${record.scenario}\u0000${record.server}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }

  return [...groups.values()].map((runs) => {
    const first = runs[0] as RunRecord;
    const names = Object.keys(first.metrics);
    const metrics = Object.fromEntries(
      names.map((name) => [name, spread(runs.map((run) => run.metrics[name] ?? Number.NaN))]),
    );
    return { scenario: first.scenario, server: first.server, runs: runs.length, metrics };
  });
}

/** The median of one metric, or NaN when that scenario did not run. */
export function medianOf(
  summaries: readonly Summary[],
  scenario: string,
  server: ServerKind,
  metric: string,
): number {
  const found = summaries.find((item) => item.scenario === scenario && item.server === server);

  return found?.metrics[metric]?.median ?? Number.NaN;
}

/** A number as people read it: thousands separated, sensible decimals. */
export function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;

  return value.toLocaleString('en-US', { maximumFractionDigits: digits });
}

function formatSpread(value: Spread | undefined, runs: number): string {
  if (!value) return '';
  if (runs < 2 || value.min === value.max) return formatNumber(value.median);

  return `${formatNumber(value.median)} [${formatNumber(value.min)}–${formatNumber(value.max)}]`;
}

/** One Markdown table per scenario: metrics down, servers across, median [min–max]. */
export function scenarioTables(summaries: readonly Summary[]): string {
  const sections: string[] = [];

  for (const scenario of Object.keys(SHOWN)) {
    const rows = summaries.filter((summary) => summary.scenario === scenario);
    if (rows.length === 0) continue;

    const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
    const header = row([scenario, ...rows.map((item) => `${item.server} (${item.runs} runs)`)]);
    const rule = row(['---', ...rows.map(() => '---')]);
    const lines = (SHOWN[scenario] ?? []).map((metric) =>
      row([metric, ...rows.map((item) => formatSpread(item.metrics[metric], item.runs))]),
    );
    sections.push([header, rule, ...lines].join('\n'));
  }

  return sections.join('\n\n');
}

/** Ratios of Pulse to the naive design and to the ceiling, from medians. */
export function ratios(summaries: readonly Summary[]): Record<string, number> {
  const pulse = (scenario: string, metric: string) =>
    medianOf(summaries, scenario, 'pulse', metric);
  const naive = (scenario: string, metric: string) =>
    medianOf(summaries, scenario, 'naive', metric);
  const ceiling = (scenario: string, metric: string) =>
    medianOf(summaries, scenario, 'ceiling', metric);
  const floor = (scenario: string, metric: string) =>
    medianOf(summaries, scenario, 'floor', metric);

  return {
    'connect streams/s, Pulse ÷ naive':
      pulse('connect', 'streamsPerSecond') / naive('connect', 'streamsPerSecond'),
    'connect RSS per stream, naive ÷ Pulse':
      naive('connect', 'rssPerStreamKiB') / pulse('connect', 'rssPerStreamKiB'),
    'connect heap per stream, naive ÷ Pulse':
      naive('connect', 'heapPerStreamKiB') / pulse('connect', 'heapPerStreamKiB'),
    'fanout emits/s, Pulse ÷ naive':
      pulse('fanout', 'emitsPerSecond') / naive('fanout', 'emitsPerSecond'),
    'fanout deliveries/s, Pulse ÷ naive':
      pulse('fanout', 'deliveriesPerSecond') / naive('fanout', 'deliveriesPerSecond'),
    'broadcast-one deliveries/s, Pulse ÷ naive':
      pulse('broadcast-one', 'deliveriesPerSecond') / naive('broadcast-one', 'deliveriesPerSecond'),
    'broadcast-many deliveries/s, Pulse ÷ naive':
      pulse('broadcast-many', 'deliveriesPerSecond') /
      naive('broadcast-many', 'deliveriesPerSecond'),
    'emit requests/s, Pulse ÷ naive':
      pulse('emit', 'requestsPerSecond') / naive('emit', 'requestsPerSecond'),
    // What bare node:http reaches on the same load tool: no server can beat these ratios.
    'connect streams/s, floor ÷ naive':
      floor('connect', 'streamsPerSecond') / naive('connect', 'streamsPerSecond'),
    'connect streams/s, Pulse ÷ floor':
      pulse('connect', 'streamsPerSecond') / floor('connect', 'streamsPerSecond'),
    'emit requests/s, floor ÷ naive':
      floor('emit', 'requestsPerSecond') / naive('emit', 'requestsPerSecond'),
    'emit requests/s, Pulse ÷ floor':
      pulse('emit', 'requestsPerSecond') / floor('emit', 'requestsPerSecond'),
    // Server CPU per unit of work moves much less than rates when other load shares the CPUs.
    'connect CPU per stream opened, naive ÷ Pulse':
      naive('connect', 'cpuSecondsOpening') / pulse('connect', 'cpuSecondsOpening'),
    'fanout CPU per delivery, naive ÷ Pulse':
      naive('fanout', 'cpuPerDeliveryUs') / pulse('fanout', 'cpuPerDeliveryUs'),
    'broadcast-one CPU per delivery, naive ÷ Pulse':
      naive('broadcast-one', 'cpuPerDeliveryUs') / pulse('broadcast-one', 'cpuPerDeliveryUs'),
    'emit CPU per request, naive ÷ Pulse':
      naive('emit', 'cpuPerRequestUs') / pulse('emit', 'cpuPerRequestUs'),
    'broadcast-one CPU/delivery, Pulse ÷ ceiling batched':
      pulse('broadcast-one', 'cpuPerDeliveryUs') / ceiling('ceiling-batched', 'cpuPerDeliveryUs'),
    'broadcast-one CPU/delivery, Pulse ÷ ceiling single':
      pulse('broadcast-one', 'cpuPerDeliveryUs') / ceiling('ceiling-single', 'cpuPerDeliveryUs'),
    'broadcast-one CPU/delivery, naive ÷ ceiling batched':
      naive('broadcast-one', 'cpuPerDeliveryUs') / ceiling('ceiling-batched', 'cpuPerDeliveryUs'),
    'broadcast-one deliveries/s, Pulse ÷ ceiling single':
      pulse('broadcast-one', 'deliveriesPerSecond') /
      ceiling('ceiling-single', 'deliveriesPerSecond'),
  };
}
