// Shapes every API document shares: hex keys and signatures, amounts, and the refusal body.
// Objects a node serves are "open" (additionalProperties: true): a node may add fields, and
// a client ignores what it does not know.
import { type TProperties, Type } from '@sinclair/typebox'

export const Hex64 = Type.String({ pattern: '^[0-9a-f]{64}$', description: '64 lowercase hex' })
export const Hex128 = Type.String({ pattern: '^[0-9a-f]{128}$', description: '128 lowercase hex' })
/** An amount in base units of a unit, as a decimal string (it may pass 2^53). */
export const Amount = Type.String({ pattern: '^(0|[1-9][0-9]*)$', description: 'base units' })

/** An object a node serves: its fields, and room for more. */
export const open = <P extends TProperties>(properties: P, description?: string) =>
  Type.Object(properties, {
    additionalProperties: true,
    ...(description === undefined ? {} : { description }),
  })

/** Every refusal of a node's HTTP API (docs/errors.md lists the codes). */
export const ErrorBodySchema = open(
  {
    error: open({
      code: Type.String({ description: 'stable code, e.g. HANSA_MANIFEST_THRESHOLD' }),
      message: Type.String(),
    }),
  },
  'A refusal: the rule broken (code) and what to do (message)',
)
