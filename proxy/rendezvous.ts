// Consistent hashing by highest random weight (rendezvous): a key goes to the endpoint whose
// hash of (key, endpoint) is highest. When an endpoint leaves, only its keys move; when one
// joins, only the keys it now wins move to it. O(endpoints) per pick, no ring to rebuild.

import type { Endpoint } from "../core/call.ts";

/** FNV-1a over the key, then the endpoint, finished with murmur3's fmix32 so near keys spread. */
function weight(key: string, ep: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0xff, 0x01000193);
  for (let i = 0; i < ep.length; i++) h = Math.imul(h ^ ep.charCodeAt(i), 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The endpoint `key` belongs to among `eps` (not empty); ties go to the first listed. */
export function rendezvousPick(eps: readonly Endpoint[], key: string): Endpoint {
  let best = eps[0]!;
  let top = weight(key, best.key);
  for (let i = 1; i < eps.length; i++) {
    const w = weight(key, eps[i]!.key);
    if (w > top) {
      top = w;
      best = eps[i]!;
    }
  }
  return best;
}
