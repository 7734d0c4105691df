/**
 * Capping weights at a subnet's max weight limit, as subtensor requires of set_weights (it refuses
 * a vector whose largest normalised weight exceeds max_weight_limit / 65535 with MaxWeightExceeded).
 * Pure.
 *
 * The cap is the smallest change that meets the limit: the k largest weights are lowered to one
 * common value c and the rest keep their proportions. With the rest summing to R, the capped ones
 * are at the limit when c / (k·c + R) = limit, i.e. c = limit·R / (1 − k·limit); k is the fewest
 * weights for which c does not exceed the next weight down.
 */

/** Weights normalised to sum 1, none above `limit` (0 < limit ≤ 1); uniform when n·limit ≤ 1. */
export function capWeights(weights: readonly number[], limit: number): number[] {
  const n = weights.length;
  const total = weights.reduce((s, w) => s + w, 0);
  if (n === 0) return [];
  if (total <= 0 || n * limit <= 1) return weights.map(() => 1 / n);
  if (Math.max(...weights) / total <= limit) return weights.map((w) => w / total);
  const sorted = [...weights].sort((a, b) => b - a);
  let rest = total;
  for (let k = 1; k < n; k++) {
    rest -= sorted[k - 1]!;
    const c = (limit * rest) / (1 - k * limit);
    if (c >= sorted[k]!) {
      const sum = k * c + rest;
      return weights.map((w) => Math.min(w, c) / sum);
    }
  }
  return weights.map(() => 1 / n); // unreachable when n·limit > 1: k = n − 1 always fits
}
