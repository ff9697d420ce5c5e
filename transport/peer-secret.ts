// Sidecar-to-sidecar authentication while mTLS is off: a per-host secret in
// $MESHLET_HOME/peer-secret (created on first use, mode 0600) that every sidecar sharing that
// home sends to its peers and demands from callers. It proves "a sidecar of this host (or of a
// host given the same file)"; it is a bearer token in clear text, which mTLS replaces.

import crypto from "node:crypto";
import path from "node:path";
import { ensureSecretFile } from "../core/private-files.ts";

/** The header a calling sidecar puts the secret in; never forwarded to an app. */
export const PEER_TOKEN_HEADER = "meshlet-peer-token";

/** Where the secret lives: MESHLET_PEER_SECRET_FILE (a mounted Secret, a copied file) or the home's. */
export function peerSecretFile(home: string): string {
  return process.env.MESHLET_PEER_SECRET_FILE || path.join(home, "peer-secret");
}

/** The secret in `file`, created (32 random bytes, hex, mode 0600) when it does not exist yet; sidecars starting at once agree on one. */
export function loadPeerSecret(file: string): string {
  const value = ensureSecretFile(file, () => crypto.randomBytes(32).toString("hex") + "\n").trim();
  if (value.length < 32) throw new Error(`${file}: the peer secret must be at least 32 characters`);
  if (/[^\x21-\x7e]/.test(value)) throw new Error(`${file}: the peer secret must be printable ASCII without spaces`);
  return value;
}

/** Compares in time independent of where the strings differ. */
export function sameSecret(given: string | null, secret: string): boolean {
  if (given === null || given.length !== secret.length) return false;
  let diff = 0;
  for (let i = 0; i < secret.length; i++) diff |= given.charCodeAt(i) ^ secret.charCodeAt(i);
  return diff === 0;
}
