// Abort plumbing shared by the timer layers: a controller that follows the caller's signal, so
// a layer can abort the inner call for its own reason without aborting the caller's.

/** A controller aborted (with the same reason) as soon as `parent` is. */
export function childController(parent: AbortSignal): AbortController {
  const ac = new AbortController();
  if (parent.aborted) ac.abort(parent.reason);
  else parent.addEventListener("abort", () => ac.abort(parent.reason), { once: true });
  return ac;
}
