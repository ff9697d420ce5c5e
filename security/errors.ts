// The error of certificate and key problems: one line naming the file or source and what is
// wrong. Kept apart so the CLI can recognise it without loading the X.509 library.

export class CertError extends Error {
  override readonly name = "CertError";
}
