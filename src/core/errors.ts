// A mistake the user can fix: printed as one line (message + hint), no stack trace, exit 2.
export class UserError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = "UserError";
  }
}
