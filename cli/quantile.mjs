// The one percentile rule for load-test results (the benchmark's load generator, its merge of
// rounds, and `meshlet bench`), so figures from each stay comparable. Plain JS: Node and Bun both
// load it. Nearest-rank on an ascending array; no interpolation.

/** The `p`th percentile (0-100) of `sorted` (ascending), or null when it is empty. */
export function quantile(sorted, p) {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : null;
}
