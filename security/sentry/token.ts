// Join tokens for the sentry: `meshlet sentry token create` signs what a sidecar may ask for (a
// namespace, an app-id pattern, an expiry) with a key kept beside the issuer (token.key, 0600);
// the sentry checks the signature in constant time before it reads anything else.

import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { CertError } from "../ca.ts";
import { ensureSecretFile } from "../../core/private-files.ts";

export const TOKEN_KEY_FILE = "token.key";
const PREFIX = "mst1";

export interface TokenClaims {
  /** The namespace the token admits. */
  readonly ns: string;
  /** App-ids admitted: exact, or with `*` globs ("orders-*"); "*" for any. */
  readonly app: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
  /** Random id, for logs. */
  readonly jti: string;
}

/** The token key in `dir`, created (32 random bytes, 0600) when `create` and missing. */
export function tokenKey(dir: string, create: boolean): Buffer {
  const file = path.join(dir, TOKEN_KEY_FILE);
  if (!create && !fs.existsSync(file)) throw new CertError(`${file} does not exist: create a token first (meshlet sentry token create) or start the sentry once`);
  let hex: string;
  try {
    hex = ensureSecretFile(file, () => crypto.randomBytes(32).toString("hex") + "\n").trim();
  } catch (e) {
    throw new CertError(`${file}: cannot write or read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new CertError(`${file}: not a token key (64 hex digits)`);
  return Buffer.from(hex, "hex");
}

const mac = (key: Buffer, body: string) => crypto.createHmac("sha256", key).update(`${PREFIX}.${body}`).digest("base64url");

export function createToken(key: Buffer, claims: Omit<TokenClaims, "jti">): string {
  const body = Buffer.from(JSON.stringify({ ...claims, jti: crypto.randomBytes(6).toString("hex") })).toString("base64url");
  return `${PREFIX}.${body}.${mac(key, body)}`;
}

/** The claims of a token signed with `key` and not expired; throws a CertError saying why not. */
export function verifyToken(key: Buffer, token: string, nowMs: number): TokenClaims {
  const parts = token.trim().split(".");
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new CertError("the token is not a meshlet join token");
  const want = Buffer.from(mac(key, parts[1]!));
  const got = Buffer.from(parts[2]!);
  if (want.length !== got.length || !crypto.timingSafeEqual(want, got)) throw new CertError("the token's signature does not verify (made with another sentry's key?)");
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as TokenClaims;
  } catch {
    throw new CertError("the token's claims do not parse");
  }
  if (typeof claims.ns !== "string" || typeof claims.app !== "string" || typeof claims.exp !== "number") throw new CertError("the token's claims are incomplete");
  if (claims.exp * 1000 <= nowMs) throw new CertError(`the token expired on ${new Date(claims.exp * 1000).toISOString()}`);
  return claims;
}

/** Whether `appId` is admitted by the token's app pattern (`*` matches any run of characters). */
export function appAdmitted(pattern: string, appId: string): boolean {
  const re = new RegExp("^" + pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
  return re.test(appId);
}
