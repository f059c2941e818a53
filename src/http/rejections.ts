import type { ErrorCode } from '../errors.js';

/** Counts requests answered with an error, by code, for metrics. */
export class RejectionCounter {
  readonly #byCode = new Map<ErrorCode, number>();

  /** Counts one rejection. */
  count(code: ErrorCode): void {
    this.#byCode.set(code, (this.#byCode.get(code) ?? 0) + 1);
  }

  /** Rejections since start, by code. */
  snapshot(): Record<string, number> {
    return Object.fromEntries(this.#byCode);
  }
}
