// A mistake the user can fix (or a stop they asked for): printed as one line, message and
// hint, no stack trace, and a non-zero exit (2 unless said otherwise, 130 after Ctrl-C).
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = "UserError";
  }
}
