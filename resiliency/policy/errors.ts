// The error a rejected resiliency configuration raises: every problem found, each `file:line:
// field: message`. Its own module so catching it does not load the parser or CEL.

export class ResiliencyError extends Error {
  override readonly name = "ResiliencyError";
  constructor(readonly problems: readonly string[]) {
    super(problems.join("\n"));
  }
}
