/** Base class of every error clicklab raises on purpose: the message says what was expected and where. */
export class ClickLabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Malformed input data: names the file and line (1-based) and what was expected there. */
export class DataFormatError extends ClickLabError {
  constructor(
    readonly file: string,
    readonly line: number | null,
    readonly problem: string,
  ) {
    super(`${file}${line === null ? '' : `:${line}`}: ${problem}`);
  }
}

/** An invalid scenario or option: names the field path, what was expected and what was found. */
export class ConfigError extends ClickLabError {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}
