/** The few statistics the analytics job needs, on plain arrays of numbers. */

/** Arithmetic mean; undefined for no values. */
export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;

  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** Sample standard deviation (n − 1 in the denominator); undefined below two values. */
export function standardDeviation(values: readonly number[]): number | undefined {
  const average = mean(values);
  if (average === undefined || values.length < 2) return undefined;

  const squares = values.reduce((sum, value) => sum + (value - average) ** 2, 0);

  return Math.sqrt(squares / (values.length - 1));
}

/**
 * The least-squares slope of y on x: Σ(x − x̄)(y − ȳ) / Σ(x − x̄)². Undefined below two
 * points or when every x is the same.
 */
export function leastSquaresSlope(points: readonly { x: number; y: number }[]): number | undefined {
  const meanX = mean(points.map((point) => point.x));
  const meanY = mean(points.map((point) => point.y));
  if (meanX === undefined || meanY === undefined || points.length < 2) return undefined;

  let covariance = 0;
  let varianceX = 0;
  for (const { x, y } of points) {
    covariance += (x - meanX) * (y - meanY);
    varianceX += (x - meanX) ** 2;
  }

  return varianceX === 0 ? undefined : covariance / varianceX;
}

/** Rounds to a number of decimals, for values sent to people. */
export function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;

  return Math.round(value * factor) / factor;
}
