// The fuzzer's cases and oracle, shared by the quick run in `npm test`
// (packages/node/test/attack-fuzz.test.ts) and the long one (bench/src/fuzz.ts). fast-check
// generates NIP-01 frames — well-formed ones with odd values, signed events, and valid frames
// mutated byte by byte (cut, spliced, nested, duplicated) — and JSON bodies for every HTTP route
// a node lists in its OpenAPI document. The oracle says what the rules (NIP-01 and the node's
// parser, protocol/relay-message.ts) promise for each frame: a frame that is not a JSON array
// with a verb gets a NOTICE; an EVENT or AUTH with an id gets an OK naming it (or a NOTICE when
// it is not an event at all); a REQ or COUNT gets EOSE, COUNT or CLOSED for its id; a CLOSE gets
// nothing. Every answer must be a well-formed relay message, and every refusal must carry a
// machine-readable prefix. A route's answer is 2xx or 4xx, never 5xx, and every refusal is
// `{ "error": { "code": "HANSA_…" } }`.
import fc from 'fast-check'
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure'
import WebSocket from 'ws'

const PREFIXES =
  /^(invalid|blocked|rate-limited|restricted|auth-required|payment-required|error|duplicate|pow|mute):/

/** What a frame must get back. */
export type Expectation =
  | { kind: 'notice' }
  | { kind: 'ok'; id: string }
  | { kind: 'sub'; subId: string }
  | { kind: 'nothing' }

/** The answer the rules promise for one frame (see the header). */
export function expectationOf(text: string): Expectation {
  if (/^\["NEG-/.test(text)) return { kind: 'nothing' } // NIP-77: answered by its own rules
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { kind: 'notice' }
  }
  if (!Array.isArray(value) || typeof value[0] !== 'string') return { kind: 'notice' }
  const subId = value[1]
  const validSub = typeof subId === 'string' && subId.length > 0 && subId.length <= 64
  switch (value[0]) {
    case 'EVENT':
    case 'AUTH': {
      if (value.length !== 2) return { kind: 'notice' }
      const id = (value[1] as { id?: unknown } | null)?.id
      return typeof id === 'string' && id.length <= 64 && typeof value[1] === 'object'
        ? { kind: 'ok', id }
        : { kind: 'notice' }
    }
    case 'REQ':
    case 'COUNT':
      return validSub ? { kind: 'sub', subId } : { kind: 'notice' }
    case 'CLOSE':
      return validSub ? { kind: 'nothing' } : { kind: 'notice' }
    default:
      return { kind: 'notice' }
  }
}

/** Why a message from the relay is not a well-formed NIP-01 answer, or null. */
export function relayMessageIssue(m: unknown): string | null {
  if (!Array.isArray(m) || typeof m[0] !== 'string') return 'not an array with a verb'
  const [verb, a, b, c] = m as [string, unknown, unknown, unknown]
  switch (verb) {
    case 'NOTICE':
      return typeof a === 'string' ? null : 'NOTICE without text'
    case 'OK':
      if (typeof a !== 'string' || typeof b !== 'boolean' || typeof c !== 'string') return 'bad OK'
      if (!b && !PREFIXES.test(c)) return `OK false without a prefix: ${c}`
      return null
    case 'CLOSED':
      if (typeof a !== 'string' || typeof b !== 'string') return 'bad CLOSED'
      return PREFIXES.test(b) ? null : `CLOSED without a prefix: ${b}`
    case 'EOSE':
      return typeof a === 'string' ? null : 'bad EOSE'
    case 'COUNT':
      return typeof a === 'string' && typeof (b as { count?: unknown })?.count === 'number'
        ? null
        : 'bad COUNT'
    case 'EVENT':
      return typeof a === 'string' && typeof b === 'object' && b !== null ? null : 'bad EVENT'
    case 'AUTH':
      return typeof a === 'string' ? null : 'bad AUTH'
    case 'NEG-MSG':
    case 'NEG-ERR':
      return typeof a === 'string' ? null : `bad ${verb}`
    default:
      return `unknown verb ${verb}`
  }
}

// ---- frames ------------------------------------------------------------------------------

const sk = generateSecretKey()
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/)
const oddString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', '\u0000', '\ud800', 'a'.repeat(65), '🦀'.repeat(20), '"]', '\\'),
)
const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  oddString,
  fc.constantFrom(
    -1,
    0,
    2 ** 53,
    -(2 ** 63),
    1e308,
    1.5,
    null,
    true,
    [],
    {},
    Number.MAX_SAFE_INTEGER + 2,
  ),
)
const tag = fc.array(oddString, { minLength: 0, maxLength: 4 })
const eventShape = fc.record(
  {
    id: fc.oneof(hex64, oddString),
    pubkey: fc.oneof(hex64, oddString),
    created_at: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), oddValue),
    kind: fc.oneof(fc.integer({ min: 0, max: 65_535 }), oddValue),
    tags: fc.oneof(fc.array(tag, { maxLength: 8 }), oddValue),
    content: fc.oneof(oddString, oddValue),
    sig: fc.oneof(fc.stringMatching(/^[0-9a-f]{128}$/), oddString),
  },
  { requiredKeys: [] },
)
/** A correctly signed event of a common kind with odd tags and content. */
const signedEvent = fc
  .record({
    kind: fc.constantFrom(0, 1, 3, 5, 7, 1059, 10002, 20001, 30023, 38383),
    content: oddString,
    tags: fc.array(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 3 }), {
      maxLength: 6,
    }),
    created_at: fc.integer({ min: 1_600_000_000, max: 1_900_000_000 }),
  })
  // A plain object: fast-check's records may have no prototype, which nostr-tools refuses.
  .map((t) =>
    finalizeEvent({ kind: t.kind, content: t.content, tags: t.tags, created_at: t.created_at }, sk),
  )
const filter = fc.oneof(
  fc.record(
    {
      ids: fc.array(fc.oneof(hex64, oddString), { maxLength: 4 }),
      authors: fc.array(fc.oneof(hex64, oddString), { maxLength: 4 }),
      kinds: fc.array(fc.oneof(fc.integer({ min: 0, max: 70_000 }), oddValue), { maxLength: 4 }),
      '#e': fc.array(fc.oneof(hex64, oddString), { maxLength: 4 }),
      '#p': fc.array(hex64, { maxLength: 4 }),
      '#t': fc.array(oddString, { maxLength: 4 }),
      since: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), oddValue),
      until: fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), oddValue),
      limit: fc.oneof(fc.integer({ min: 0, max: 5000 }), oddValue),
      search: oddString,
    },
    { requiredKeys: [] },
  ),
  oddValue,
)
const subId = fc.oneof(fc.constantFrom('a', 'b', 'sub'), oddString)

/** Well-formed-looking frames: each verb with generated values. */
const wellFormed: fc.Arbitrary<string> = fc
  .oneof(
    fc.tuple(fc.constant('EVENT'), fc.oneof(signedEvent, eventShape)),
    fc.tuple(fc.constant('REQ'), subId, filter),
    fc.tuple(fc.constant('REQ'), subId, filter, filter, filter),
    fc.tuple(fc.constant('COUNT'), subId, filter),
    fc.tuple(fc.constant('CLOSE'), subId),
    fc.tuple(fc.constant('AUTH'), eventShape),
    fc.tuple(fc.constantFrom('NEG-OPEN', 'NEG-MSG', 'NEG-CLOSE'), subId, filter, oddString),
    fc.tuple(fc.constantFrom('EVENT', 'REQ', 'HELLO', '', 'event')),
    fc.array(oddValue, { maxLength: 5 }),
    oddValue,
  )
  .map((v) => JSON.stringify(v) ?? 'null')

/** One byte-level change to a frame. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(),
    char: fc.string({ minLength: 1, maxLength: 1 }),
  }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      '[',
      ']',
      '{',
      '}',
      ',',
      '"',
      '\\u0000',
      '1e999',
      '[[[[[[[[[[',
      'null',
      ':',
    ),
  }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
    times: fc.integer({ min: 2, max: 50 }),
  }),
  fc.record({ op: fc.constant('nest' as const), depth: fc.integer({ min: 1, max: 2000 }) }),
)

function mutate(text: string, m: MutationOp): string {
  const at = text.length === 0 ? 0 : m.at! % text.length
  switch (m.op) {
    case 'cut':
      return text.slice(0, at)
    case 'flip':
      return text.slice(0, at) + m.char + text.slice(at + 1)
    case 'insert':
      return text.slice(0, at) + m.text + text.slice(at)
    case 'repeat': {
      const piece = text.slice(at, at + m.length!)
      return text.slice(0, at) + piece.repeat(m.times!) + text.slice(at)
    }
    case 'nest':
      return '['.repeat(m.depth!) + text + ']'.repeat(m.depth!)
  }
}
type MutationOp = {
  op: 'cut' | 'flip' | 'insert' | 'repeat' | 'nest'
  at?: number
  char?: string
  text?: string
  length?: number
  times?: number
  depth?: number
}

/** A frame: well formed, or a well-formed frame with one to three mutations. */
export const frame: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: wellFormed },
  {
    weight: 3,
    arbitrary: fc
      .tuple(wellFormed, fc.array(mutation, { minLength: 1, maxLength: 3 }))
      .map(([text, ms]) => ms.reduce((t, m) => mutate(t, m as MutationOp), text)),
  },
)

// ---- running frames against a node -------------------------------------------------------

/** A raw WebSocket that keeps every message and lets the caller wait for one. */
export class FuzzClient {
  readonly received: unknown[] = []
  private cursor = 0
  private wake: (() => void) | undefined
  closed: { code: number; reason: string } | undefined

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      let m: unknown
      try {
        m = JSON.parse(data.toString())
      } catch {
        m = { unparseable: data.toString().slice(0, 200) }
      }
      this.received.push(m)
      this.wake?.()
    })
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.wake?.()
    })
  }

  static async connect(url: string): Promise<FuzzClient> {
    const ws = new WebSocket(url)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    return new FuzzClient(ws)
  }

  send(text: string): void {
    this.ws.send(text)
  }

  /** Waits for the first message after the cursor matching `match`; moves the cursor past it. */
  async next(match: (m: unknown[]) => boolean, ms: number): Promise<unknown[] | undefined> {
    const deadline = Date.now() + ms
    for (;;) {
      for (; this.cursor < this.received.length; this.cursor++) {
        const m = this.received[this.cursor]
        if (Array.isArray(m) && match(m)) {
          this.cursor++
          return m
        }
      }
      if (this.closed || Date.now() >= deadline) return undefined
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      this.wake = undefined
    }
  }

  close(): void {
    this.ws.close()
  }
}

/** Answers that do not follow the rules, for one sequence of frames on one connection. */
export async function runFrames(
  url: string,
  frames: readonly string[],
  ms = 5000,
): Promise<string[]> {
  const client = await FuzzClient.connect(url)
  const problems: string[] = []
  try {
    // What the node reads: a lone surrogate a mutation left in the text goes out as U+FFFD.
    const wire = frames.map((t) => Buffer.from(t, 'utf8').toString('utf8'))
    for (const [i, text] of wire.entries()) {
      const want = expectationOf(text)
      // A later frame naming the same subscription may replace it before it answers.
      const reused =
        want.kind === 'sub' &&
        wire.slice(i + 1).some((t) => t.includes(JSON.stringify(want.subId).slice(1, -1)))
      client.send(text)
      if (want.kind === 'nothing' || reused) continue
      const got = await client.next(
        (m) =>
          m[0] === 'NOTICE' ||
          (want.kind === 'ok' && m[0] === 'OK' && m[1] === want.id) ||
          (want.kind === 'sub' &&
            ['EOSE', 'CLOSED', 'COUNT'].includes(m[0] as string) &&
            m[1] === want.subId),
        ms,
      )
      if (got === undefined) {
        problems.push(
          `no ${want.kind} answer to ${text.slice(0, 200)}${client.closed ? ` (closed ${client.closed.code})` : ''}`,
        )
        break
      }
    }
    // The connection is still usable: a valid REQ gets its EOSE.
    if (problems.length === 0) {
      client.send(JSON.stringify(['REQ', 'fuzz-probe', { limit: 1 }]))
      const eose = await client.next((m) => m[0] === 'EOSE' && m[1] === 'fuzz-probe', ms)
      if (eose === undefined) {
        problems.push(
          `no EOSE to a valid REQ after the frames${client.closed ? ` (closed ${client.closed.code} ${client.closed.reason})` : ''}`,
        )
      }
    }
    for (const m of client.received) {
      const issue = relayMessageIssue(m)
      if (issue) problems.push(`${issue}: ${JSON.stringify(m).slice(0, 200)}`)
    }
  } finally {
    client.close()
  }
  return problems
}

// ---- HTTP ---------------------------------------------------------------------------------

export type Route = { method: string; path: string }

/** The JSON routes a node lists in its OpenAPI document (the web app's files left out). */
export async function routesOf(httpUrl: string): Promise<Route[]> {
  const doc = (await (await fetch(`${httpUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, unknown>>
  }
  const routes: Route[] = []
  for (const [path, methods] of Object.entries(doc.paths)) {
    if (path.startsWith('/app')) continue
    for (const method of Object.keys(methods)) {
      if (['get', 'post', 'put', 'delete', 'patch'].includes(method)) {
        routes.push({ method: method.toUpperCase(), path })
      }
    }
  }
  return routes
}

/** A request: a route, values for its path parameters, and a body (JSON or broken JSON). */
export const httpCase = (routes: readonly Route[]) =>
  fc.record({
    route: fc.constantFrom(...routes),
    param: fc.oneof(
      fc.string({ maxLength: 70 }),
      hex64,
      fc.constantFrom('..', '%', '0', 'a'.repeat(300)),
    ),
    body: fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null'),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '',
        '{',
        '[]',
        '{"__proto__":{"x":1}}',
        '{"constructor":{"prototype":{}}}',
        `${'['.repeat(5000)}${']'.repeat(5000)}`,
      ),
    ),
    auth: fc.oneof(fc.constant(undefined), fc.string({ maxLength: 80 }), fc.constant('Nostr e30=')),
  })

/** Why an answer to one HTTP case breaks the rules, or null. */
export async function runHttpCase(
  httpUrl: string,
  c: { route: Route; param: string; body: string; auth: string | undefined },
): Promise<string | null> {
  const path = c.route.path.replace(/\{[^}]+\}/g, encodeURIComponent(c.param))
  const headers: Record<string, string> = {}
  const hasBody = c.route.method !== 'GET' && c.route.method !== 'DELETE'
  if (hasBody) headers['content-type'] = 'application/json'
  if (c.auth !== undefined) headers.authorization = c.auth
  let response: Response
  try {
    response = await fetch(`${httpUrl}${path}`, {
      method: c.route.method,
      headers,
      ...(hasBody ? { body: c.body } : {}),
      signal: AbortSignal.timeout(10_000),
    })
  } catch (error) {
    return `${c.route.method} ${path}: no answer (${(error as Error).message})`
  }
  const text = await response.text()
  if (response.status >= 500 && response.status !== 503) {
    return `${c.route.method} ${path}: ${response.status} ${text.slice(0, 200)}`
  }
  if (response.status >= 400 && response.status !== 404) {
    let code: unknown
    try {
      code = (JSON.parse(text) as { error?: { code?: unknown } }).error?.code
    } catch {
      code = undefined
    }
    if (typeof code !== 'string' || !/^HANSA_[A-Z0-9_]+$/.test(code)) {
      return `${c.route.method} ${path}: ${response.status} without a HANSA_* code: ${text.slice(0, 200)}`
    }
  }
  return null
}
