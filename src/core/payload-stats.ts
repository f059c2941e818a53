/** Per-type totals in the payload stats. */
export interface TypeStats {
  count: number;
  totalBytes: number;
  averageSize: number;
}

/** The payload stats as `/api/events/debug/payload-stats` returns them. */
export interface PayloadStatsReport {
  totalEvents: number;
  totalBytes: number;
  totalKB: string;
  largePayloads: number;
  averageSize: number;
  largePayloadRate: string;
  startTime: string;
  uptime: string;
  uptimeSeconds: number;
  byEventType: Record<string, TypeStats>;
}

// Event types are chosen by emitters, so the per-type table is capped; the rest share a row.
const MAX_TRACKED_TYPES = 200;
const OTHER_TYPES = '(other)';

/**
 * Counts every frame written to a connection (an event that reaches two tabs counts twice),
 * sized as the UTF-8 bytes of its `data:` JSON.
 */
export class PayloadStats {
  readonly #largeThreshold: number;
  readonly #startedAt = new Date();
  readonly #byType = new Map<string, { count: number; totalBytes: number }>();
  #totalEvents = 0;
  #totalBytes = 0;
  #largePayloads = 0;

  constructor(largePayloadBytes: number) {
    this.#largeThreshold = largePayloadBytes;
  }

  /** Records `times` frames of one event, `bytes` each. */
  record(type: string, bytes: number, times = 1): void {
    if (times <= 0) return;

    this.#totalEvents += times;
    this.#totalBytes += bytes * times;
    if (bytes > this.#largeThreshold) this.#largePayloads += times;

    const key =
      this.#byType.has(type) || this.#byType.size < MAX_TRACKED_TYPES ? type : OTHER_TYPES;
    const row = this.#byType.get(key) ?? { count: 0, totalBytes: 0 };
    row.count += times;
    row.totalBytes += bytes * times;
    this.#byType.set(key, row);
  }

  /** A snapshot for the debug route. */
  report(now = new Date()): PayloadStatsReport {
    const byEventType: Record<string, TypeStats> = {};
    for (const [type, row] of this.#byType) {
      byEventType[type] = { ...row, averageSize: average(row.totalBytes, row.count) };
    }
    const rate = this.#totalEvents === 0 ? 0 : (this.#largePayloads / this.#totalEvents) * 100;

    return {
      totalEvents: this.#totalEvents,
      totalBytes: this.#totalBytes,
      totalKB: (this.#totalBytes / 1024).toFixed(2),
      largePayloads: this.#largePayloads,
      averageSize: average(this.#totalBytes, this.#totalEvents),
      largePayloadRate: `${rate.toFixed(2)}%`,
      startTime: this.#startedAt.toISOString(),
      uptime: now.toISOString(),
      uptimeSeconds: Math.floor((now.getTime() - this.#startedAt.getTime()) / 1000),
      byEventType,
    };
  }
}

function average(total: number, count: number): number {
  return count === 0 ? 0 : Math.round(total / count);
}
