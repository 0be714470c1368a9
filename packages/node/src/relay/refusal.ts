// Why the relay said no. Every refusal carries one of NIP-01's machine-readable prefixes,
// a message a person understands, and a short rule name for metrics and logs.

export type RefusalPrefix =
  | 'invalid'
  | 'blocked'
  | 'rate-limited'
  | 'restricted'
  | 'auth-required'
  | 'payment-required'
  | 'error'

export type Refusal = { prefix: RefusalPrefix; rule: string; message: string }

export const refuse = (prefix: RefusalPrefix, rule: string, message: string): Refusal => ({
  prefix,
  rule,
  message,
})

/** The text sent in OK false, CLOSED or NOTICE. */
export const refusalText = (r: Refusal): string => `${r.prefix}: ${r.message}`
