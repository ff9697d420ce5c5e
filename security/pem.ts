// Reading certificates and making workload keys with node:crypto alone (no X.509 library loaded):
// PEM splitting and parsing, and a fresh P-256 key pair as PEM.

import nodeCrypto from "node:crypto";

/** The PEM blocks of certificates in `text`, in order. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** Parses every certificate in `text`; throws naming the first that does not parse. */
export function readCerts(text: string): nodeCrypto.X509Certificate[] {
  return splitPem(text).map((b, i) => {
    try {
      return new nodeCrypto.X509Certificate(b);
    } catch (e) {
      throw new Error(`certificate ${i + 1} does not parse: ${(e as Error).message}`);
    }
  });
}

/** A workload's key: generated in this process, held in memory, never written. */
export function newWorkloadKey(): { keyPem: string; spkiPem: string } {
  const { privateKey, publicKey } = nodeCrypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return {
    keyPem: privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    spkiPem: publicKey.export({ format: "pem", type: "spki" }).toString(),
  };
}

/** Throws unless `pem` is an ECDSA P-256 private key. */
export function checkP256Key(pem: string): nodeCrypto.KeyObject {
  const key = nodeCrypto.createPrivateKey(pem);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") throw new Error("the key is not an ECDSA P-256 key");
  return key;
}
