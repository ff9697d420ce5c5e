// Configuration errors (file:line messages) as their own module, so code that only catches them
// does not load the YAML parser.

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}
