/**
 * A bounded, uniform sample of latencies (reservoir sampling, Vitter's algorithm R), so a
 * worker's memory does not grow with the number of deliveries. The maximum is kept exactly.
 */
export class LatencySamples {
  #values: Float64Array;
  #count = 0;
  #seen = 0;
  #max = 0;

  constructor(capacity: number) {
    this.#values = new Float64Array(capacity);
  }

  /** Adds one latency in milliseconds. */
  add(value: number): void {
    this.#seen += 1;
    if (value > this.#max) this.#max = value;

    if (this.#count < this.#values.length) {
      this.#values[this.#count] = value;
      this.#count += 1;
      return;
    }
    const slot = Math.floor(Math.random() * this.#seen);
    if (slot < this.#values.length) this.#values[slot] = value;
  }

  /** The largest value added. */
  get max(): number {
    return this.#max;
  }

  /** A copy of the sample, and a fresh start. */
  take(): Float64Array {
    const taken = this.#values.slice(0, this.#count);
    this.#count = 0;
    this.#seen = 0;
    this.#max = 0;

    return taken;
  }
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Percentiles of merged samples (nearest rank); `max` is the exact maximum. */
export function summarize(samples: readonly Float64Array[], max: number): LatencySummary {
  const total = samples.reduce((sum, part) => sum + part.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  for (const part of samples) {
    all.set(part, at);
    at += part.length;
  }
  all.sort();

  const rank = (q: number) => (total === 0 ? Number.NaN : (all[Math.ceil(q * total) - 1] ?? 0));
  return { p50: rank(0.5), p95: rank(0.95), p99: rank(0.99), max };
}

/** The median of the runs, with their range. */
export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median and range of a list of numbers (NaN values are left out). */
export function spread(values: readonly number[]): Spread {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (sorted.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN };

  const middle = sorted.length >> 1;
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] ?? 0)
      : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;

  return { median, min: sorted[0] ?? 0, max: sorted[sorted.length - 1] ?? 0 };
}
