// node:crypto in the browser: the client only takes webcrypto's getRandomValues from it.
export const webcrypto = globalThis.crypto
