// Weighted backend choice (HTTPRoute backendRefs weights, VirtualService route weights). Pure: the caller passes the
// random draw so tests and consistent-hash callers control it.

/**
 * Weighted choice; `rand` in [0,1). Zero total weight → undefined. Items with weight ≤ 0 are never chosen (as Istio
 * drops 0-weight destinations and Gateway API sends them no traffic); weights need not sum to 100.
 */
export function pickWeighted<T extends { weight: number }>(items: readonly T[], rand: number): T | undefined {
  let total = 0;
  let last: T | undefined;
  for (const it of items) {
    if (it.weight > 0) {
      total += it.weight;
      last = it;
    }
  }
  if (!(total > 0)) return undefined;
  let target = Math.min(Math.max(rand, 0), 1) * total;
  for (const it of items) {
    if (!(it.weight > 0)) continue;
    if (target < it.weight) return it;
    target -= it.weight;
  }
  // rand at (or rounding to) the top of the range.
  return last;
}
