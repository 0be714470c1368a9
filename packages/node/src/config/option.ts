// The option kit: every option is a TypeBox schema carrying its own documentation — default,
// description, whether a change needs a restart, the environment variable that sets it —
// so one schema gives the `NodeConfig` type, validation, docs/configuration.md and
// `hansa config docs` (strfry's self-documenting config). Each part of the node declares its
// options beside its code (relay/options.ts, billing/options.ts, a service's options.ts…);
// config.ts assembles them.
import {
  type TArray,
  type TBoolean,
  type TInteger,
  type TLiteral,
  type TNumber,
  type TObject,
  type TProperties,
  type TSchema,
  type TString,
  Type,
} from '@sinclair/typebox'

/** What every option says about itself besides its type and default. */
export type OptionDocs = {
  description: string
  /** Whether a running node must restart to take a change (SIGHUP applies the others). */
  restart?: boolean
  /** The default as the docs show it, where the value is computed (the number of cores). */
  defaultText?: string
  /** Smallest value of a number. */
  min?: number
}

const meta = (docs: OptionDocs) => ({
  description: docs.description,
  restart: docs.restart ?? true,
  ...(docs.defaultText === undefined ? {} : { defaultText: docs.defaultText }),
  ...(docs.min === undefined ? {} : { minimum: docs.min }),
})

type Docs = string | OptionDocs
const docsOf = (d: Docs): OptionDocs => (typeof d === 'string' ? { description: d } : d)

/** Builders for the option types a node reads (all reachable from a file, the env and flags). */
export const option = {
  string: (value: string, docs: Docs): TString =>
    Type.String({ default: value, ...meta(docsOf(docs)) }),
  integer: (value: number, docs: Docs): TInteger =>
    Type.Integer({ default: value, ...meta(docsOf(docs)) }),
  number: (value: number, docs: Docs): TNumber =>
    Type.Number({ default: value, ...meta(docsOf(docs)) }),
  boolean: (value: boolean, docs: Docs): TBoolean =>
    Type.Boolean({ default: value, ...meta(docsOf(docs)) }),
  strings: (value: readonly string[], docs: Docs): TArray<TString> =>
    Type.Array(Type.String(), { default: [...value], ...meta(docsOf(docs)) }),
  integers: (value: readonly number[], docs: Docs): TArray<TInteger> =>
    Type.Array(Type.Integer(), { default: [...value], ...meta(docsOf(docs)) }),
  /** One of a fixed list of strings: `option.choice([Type.Literal('a'), …], 'a', docs)`. */
  choice: <L extends [TLiteral<string>, TLiteral<string>, ...TLiteral<string>[]]>(
    choices: [...L],
    value: L[number]['const'],
    docs: Docs,
  ) => Type.Union(choices, { default: value, ...meta(docsOf(docs)) }),
  /** A section: options under one dotted prefix (`limits.maxLimit`). */
  section: <P extends TProperties>(properties: P): TObject<P> => Type.Object(properties),
}

export const lit = <S extends string>(s: S): TLiteral<S> => Type.Literal(s)

export type OptionType = 'string' | 'integer' | 'number' | 'boolean' | 'string[]' | 'integer[]'

/** One option as the resolver, the docs and the reloader read it (derived from the schema). */
export type OptionSpec = {
  key: string
  env: string
  type: OptionType
  default: unknown
  defaultText?: string
  description: string
  restart: boolean
  choices?: readonly string[]
  min?: number
}

/** The environment variable of an option: HANSA_ + the key in upper snake case. */
export const envName = (key: string): string =>
  `HANSA_${key
    .replace(/\./g, '_')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toUpperCase()}`

const isObject = (s: TSchema): s is TObject => s.type === 'object' && s.properties !== undefined

function typeOf(s: TSchema, key: string): { type: OptionType; choices?: string[] } {
  if (Array.isArray(s.anyOf)) {
    const choices = (s.anyOf as TSchema[]).map((c) => c.const)
    if (choices.every((c): c is string => typeof c === 'string')) return { type: 'string', choices }
  }
  switch (s.type) {
    case 'string':
    case 'integer':
    case 'number':
    case 'boolean':
      return { type: s.type }
    case 'array': {
      const item = (s.items as TSchema | undefined)?.type
      if (item === 'string') return { type: 'string[]' }
      if (item === 'integer') return { type: 'integer[]' }
    }
  }
  throw new Error(`option ${key}: a type the option kit does not build`)
}

/** The options of a schema, in declaration order, with dotted keys. */
export function optionSpecs(schema: TObject, prefix = ''): OptionSpec[] {
  const out: OptionSpec[] = []
  for (const [name, s] of Object.entries(schema.properties)) {
    const key = prefix ? `${prefix}.${name}` : name
    if (isObject(s)) {
      out.push(...optionSpecs(s, key))
      continue
    }
    out.push({
      key,
      env: envName(key),
      ...typeOf(s, key),
      default: s.default,
      ...(typeof s.defaultText === 'string' ? { defaultText: s.defaultText } : {}),
      description: String(s.description ?? ''),
      restart: s.restart !== false,
      ...(typeof s.minimum === 'number' ? { min: s.minimum } : {}),
    })
  }
  return out
}
