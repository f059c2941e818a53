import type { PhaseOutcome } from './harness.js';
import type { ServerKind } from './server-process.js';

/** One measured run of one scenario against one server: printed as one JSON line. */
export interface RunRecord {
  readonly scenario: string;
  readonly server: ServerKind;
  readonly run: number;
  readonly metrics: Record<string, number>;
  /** Anything that went wrong: failures, refusals, early closes. */
  readonly notes: string[];
}

/** The record of one emit phase: its metrics (plus any of the scenario's own) and notes. */
export function phaseRecord(
  where: { scenario: string; server: ServerKind; run: number },
  phase: PhaseOutcome,
  extraMetrics: Record<string, number> = {},
): RunRecord {
  return {
    ...where,
    metrics: { ...phaseMetrics(phase), ...extraMetrics },
    notes: phaseNotes(phase),
  };
}

/** The metrics every emit phase reports, with delivery rates and CPU per delivery. */
export function phaseMetrics(phase: PhaseOutcome): Record<string, number> {
  return {
    accepted: phase.accepted,
    rejected: phase.rejected,
    emitsPerSecond: phase.accepted / phase.emitSeconds,
    delivered: phase.delivered,
    deliveriesPerSecond: phase.delivered / phase.deliverySeconds,
    p50Ms: phase.latency.p50,
    p95Ms: phase.latency.p95,
    p99Ms: phase.latency.p99,
    maxMs: phase.latency.max,
    lost: phase.lost,
    duplicated: phase.duplicated + phase.unexpected,
    cpuSeconds: phase.cpuSeconds,
    cpuPerDeliveryUs: (phase.cpuSeconds / Math.max(1, phase.delivered)) * 1e6,
    clientCpuSeconds: phase.clientCpuSeconds,
    machineStallMs: phase.machineStallMs,
  };
}

/** What went wrong in a phase, in words; empty when nothing did. */
export function phaseNotes(phase: PhaseOutcome): string[] {
  const notes: string[] = [];
  if (phase.rejected > 0) notes.push(`${phase.rejected} emits failed: ${phase.firstError}`);
  if (phase.closedEarly > 0) notes.push(`${phase.closedEarly} streams closed by the server`);
  if (phase.unexpected > 0) notes.push(`${phase.unexpected} deliveries of unknown events`);
  if (phase.notified !== phase.expected && phase.notified > 0) {
    notes.push(`server reported ${phase.notified} notified, ${phase.expected} expected`);
  }

  return notes;
}

/** A deterministic pseudo-random sequence (mulberry32), so every run draws the same targets. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;

  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` targets drawn uniformly from `users` users. */
export function randomTargets(count: number, users: number, seed: number): Int32Array {
  const random = seededRandom(seed);

  return Int32Array.from({ length: count }, () => Math.floor(random() * users));
}

/** `count` targets going round the users in turn. */
export function roundRobinTargets(count: number, users: number): Int32Array {
  return Int32Array.from({ length: count }, (_, index) => index % users);
}
