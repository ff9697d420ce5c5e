// Types for cli/quantile.mjs.
export function quantile(sorted: readonly number[], p: number): number | null;
