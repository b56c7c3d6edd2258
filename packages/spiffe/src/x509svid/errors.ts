/** Raised when an X509-SVID is rejected; `rule` names the check that failed. */
export class X509SvidError extends Error {
  constructor(readonly rule: string, detail: string, options?: ErrorOptions) {
    super(`X509-SVID rejected (${rule}): ${detail}`, options);
    this.name = 'X509SvidError';
  }
}

/** Runs `parse`, reporting its failure as an X509SvidError for `rule`. */
export function guard<T>(rule: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof X509SvidError) throw error;
    throw new X509SvidError(rule, (error as Error).message, { cause: error });
  }
}
