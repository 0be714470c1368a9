// One error handler for every route set (the node's own and the services'): every refusal is
// `{ "error": { "code", "message" } }` with a HANSA_* code from the catalogue
// (@hansa/protocol's error-codes.ts, docs/errors.md). A HansaError keeps its code and is sent
// with its own `status` when it carries one, else the catalogue's; a request that fails its
// schema is the route set's "invalid request" code; anything else is HANSA_INTERNAL, logged.
import { HansaError, type HansaErrorCode, httpStatusOfCode } from '@hansa/protocol'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'

/** The body of every refusal. */
export type ErrorBody = { error: { code: string; message: string } }

const statusOf = (error: HansaError): number =>
  'status' in error && typeof error.status === 'number'
    ? error.status
    : httpStatusOfCode(error.code)

/**
 * The handler for one route set: `invalid` is the code of a request its schemas refuse
 * (HANSA_REQUEST_INVALID, HANSA_ORDER_INVALID, …), `name` says whose route failed in the log.
 */
export function hansaErrorHandler(options: { invalid: HansaErrorCode; name: string }) {
  return (error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof HansaError) {
      const body: ErrorBody = { error: { code: error.code, message: error.message } }
      return reply.code(statusOf(error)).send(body)
    }
    const status =
      'validation' in error && error.validation !== undefined
        ? 400
        : 'statusCode' in error && typeof error.statusCode === 'number'
          ? error.statusCode
          : 500
    if (status < 500) {
      const body: ErrorBody = {
        error: { code: options.invalid, message: `request ${error.message}` },
      }
      return reply.code(status).send(body)
    }
    request.log.error({ err: error }, `${options.name} route failed`)
    const body: ErrorBody = {
      error: { code: 'HANSA_INTERNAL', message: 'internal error; the node logged it' },
    }
    return reply.code(500).send(body)
  }
}
