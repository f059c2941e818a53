/** Most items Pulse accepts in one event's `data.analytics`. */
export const MAX_ANALYTICS_ITEMS = 50;

/** The `data` of one `analytics:batch_update` event. */
export interface AnalyticsBatch {
  analytics: unknown[];
  count: number;
  /** 1-based. */
  batchIndex: number;
  totalBatches: number;
}

/** Splits items into consecutive batches of at most `size`, numbered from 1. */
export function analyticsBatches(items: unknown[], size = MAX_ANALYTICS_ITEMS): AnalyticsBatch[] {
  const totalBatches = Math.ceil(items.length / size);

  return Array.from({ length: totalBatches }, (_, index) => {
    const analytics = items.slice(index * size, (index + 1) * size);
    return { analytics, count: analytics.length, batchIndex: index + 1, totalBatches };
  });
}
