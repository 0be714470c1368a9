// Routes that take NIP-98 auth need the exact body bytes (the auth event's payload tag is
// their sha256), so a scope's JSON bodies are read as text, kept on the request, then parsed.
import type { FastifyInstance, FastifyRequest } from 'fastify'

type RawBodyRequest = FastifyRequest & { rawBody?: string }

export function keepRawJsonBody(
  scope: FastifyInstance,
  options: { bodyLimit?: number; invalid: () => Error },
): void {
  scope.removeContentTypeParser('application/json')
  scope.addContentTypeParser(
    'application/json',
    {
      parseAs: 'string',
      ...(options.bodyLimit === undefined ? {} : { bodyLimit: options.bodyLimit }),
    },
    (request, body, done) => {
      const text = body as string
      ;(request as RawBodyRequest).rawBody = text
      if (text === '') return done(null, undefined)
      try {
        done(null, JSON.parse(text))
      } catch {
        done(options.invalid(), undefined)
      }
    },
  )
}

/** The body exactly as received, or undefined without one. */
export const rawBodyOf = (request: FastifyRequest): string | undefined =>
  (request as RawBodyRequest).rawBody
