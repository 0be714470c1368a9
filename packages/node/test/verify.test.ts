// The verify stage: every BIP-340 backend against the official vectors and random signatures,
// and the worker pool's verdicts under concurrency, crashes and close().
import { createHash } from 'node:crypto'
import { readFileSync, readdirSync } from 'node:fs'
import { schnorr } from '@noble/curves/secp256k1.js'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type CheckResult,
  type EventCheck,
  type SchnorrVerifier,
  type VerifierName,
  VerifyPool,
  VerifyPoolClosedError,
  VerifyWorkerCrashedError,
  loadVerifier,
} from '../dist/verify/index.js'
import { checkFlat } from '../dist/verify/check.js'

type Vector = {
  index: number
  publicKey: string
  message: string
  signature: string
  valid: boolean
  comment: string
}
const { vectors } = JSON.parse(
  readFileSync(new URL('./vectors/bip340.json', import.meta.url), 'utf8'),
) as { vectors: Vector[] }

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

// Which backends this machine has: native needs libsecp256k1-dev at install time; wasm and
// noble ship with the dependencies and must always load.
const backends = new Map<VerifierName, SchnorrVerifier>()
const missing: string[] = []
beforeAll(async () => {
  for (const name of ['native', 'wasm', 'noble'] as const) {
    try {
      backends.set(name, await loadVerifier(name))
    } catch (error) {
      missing.push(`${name}: ${(error as Error).message}`)
    }
  }
})

describe('loadVerifier', () => {
  it('always has wasm and noble, and auto picks the fastest that loads', async () => {
    expect(backends.has('wasm')).toBe(true)
    expect(backends.has('noble')).toBe(true)
    const auto = await loadVerifier('auto')
    expect(auto.name).toBe(backends.has('native') ? 'native' : 'wasm')
    if (missing.length > 0) console.warn(`verify backends not loaded: ${missing.join('; ')}`)
  })
})

describe.each(['native', 'wasm', 'noble'] as const)('%s verifier', (name) => {
  const get = () => {
    const v = backends.get(name)
    if (!v) return null
    return v
  }

  it('passes the BIP-340 test vectors', (ctx) => {
    const v = get()
    if (!v) return ctx.skip()
    expect(vectors).toHaveLength(19)
    for (const t of vectors) {
      const got = v.verify(hex(t.signature), hex(t.message), hex(t.publicKey))
      expect({ index: t.index, valid: got }).toEqual({ index: t.index, valid: t.valid })
    }
  })

  it('accepts what noble signs and rejects any single flipped bit', (ctx) => {
    const v = get()
    if (!v) return ctx.skip()
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 48, maxLength: 48 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.constantFrom('sig', 'msg', 'pubkey'),
        fc.nat(),
        (seed, msg, aux, part, bitSeed) => {
          const secretKey = schnorr.utils.randomSecretKey(seed)
          const pubkey = schnorr.getPublicKey(secretKey)
          const sig = schnorr.sign(msg, secretKey, aux)
          expect(v.verify(sig, msg, pubkey)).toBe(true)
          const flipped = { sig: sig.slice(), msg: msg.slice(), pubkey: pubkey.slice() }
          const target = flipped[part]
          const bit = bitSeed % (target.length * 8)
          target[bit >> 3] = (target[bit >> 3] ?? 0) ^ (1 << (bit & 7))
          expect(v.verify(flipped.sig, flipped.msg, flipped.pubkey)).toBe(false)
        },
      ),
      { numRuns: name === 'noble' ? 40 : 150 },
    )
  })

  it('answers false, not an exception, for wrong-sized signatures and keys', (ctx) => {
    const v = get()
    if (!v) return ctx.skip()
    const t = vectors[1] as Vector
    expect(v.verify(hex(t.signature).subarray(0, 63), hex(t.message), hex(t.publicKey))).toBe(false)
    expect(v.verify(hex(t.signature), hex(t.message), hex(t.publicKey).subarray(1))).toBe(false)
  })

  it('verifies batches like single calls, when it has a batch path', (ctx) => {
    const v = get()
    if (!v?.verifyBatch) return ctx.skip()
    const usable = vectors.filter((t) => t.message.length === 64)
    const records = Buffer.concat(
      usable.map((t) => Buffer.from(t.signature + t.message + t.publicKey, 'hex')),
    )
    expect(Array.from(v.verifyBatch(records))).toEqual(usable.map((t) => (t.valid ? 1 : 0)))
    expect(v.verifyBatch(new Uint8Array(0))).toHaveLength(0)
    expect(() => v.verifyBatch?.(new Uint8Array(127))).toThrow(/multiple of 128/)
  })
})

// Signed events for the pool: 24 keys, 240 events; variants of them give known verdicts.
type Signed = EventCheck
const signed: Signed[] = []
beforeAll(() => {
  for (let k = 0; k < 24; k++) {
    const secretKey = schnorr.utils.randomSecretKey()
    const pubkey = toHex(schnorr.getPublicKey(secretKey))
    for (let i = 0; i < 10; i++) {
      const tags =
        i % 2
          ? [
              ['p', pubkey],
              ['t', 'ünïcødé ✓'],
            ]
          : []
      const serialized = JSON.stringify([
        0,
        pubkey,
        1_700_000_000 + i,
        1,
        tags,
        `note ${k}/${i} "q"\n`,
      ])
      const id = createHash('sha256').update(serialized).digest()
      signed.push({ id: toHex(id), pubkey, sig: toHex(schnorr.sign(id, secretKey)), serialized })
    }
  }
})

const VARIANTS = ['ok', 'bad-id', 'bad-id-case', 'bad-sig', 'bad-sig-other', 'bad-sig-hex'] as const
type Variant = (typeof VARIANTS)[number]
const verdict: Record<Variant, CheckResult> = {
  ok: 'ok',
  'bad-id': 'bad-id',
  'bad-id-case': 'bad-id',
  'bad-sig': 'bad-sig',
  'bad-sig-other': 'bad-sig',
  'bad-sig-hex': 'bad-sig',
}
function variant(e: Signed, v: Variant, other: Signed): EventCheck {
  switch (v) {
    case 'ok':
      return { ...e }
    case 'bad-id': // content changed after signing
      return { ...e, serialized: e.serialized.replace('note', 'n0te') }
    case 'bad-id-case': // ids are lowercase hex
      return { ...e, id: e.id.toUpperCase() }
    case 'bad-sig': // one bit of s flipped
      return {
        ...e,
        sig: e.sig.slice(0, 127) + (Number.parseInt(e.sig[127] ?? '0', 16) ^ 1).toString(16),
      }
    case 'bad-sig-other': // a valid signature, of another event
      return { ...e, sig: other.sig }
    case 'bad-sig-hex':
      return { ...e, sig: `${e.sig.slice(0, 126)}zz` }
  }
}

describe('checkEvents (the native one-call check)', () => {
  it('gives every verdict the hash-then-verifyBatch path gives', (ctx) => {
    const native = backends.get('native')
    if (!native?.checkEvents) return ctx.skip()
    const { checkEvents: _, ...withoutIt } = native
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: signed.length - 1 }),
            fc.constantFrom(...VARIANTS),
            fc.integer({ min: 0, max: signed.length - 1 }),
          ),
          { maxLength: 40 },
        ),
        (picks) => {
          const flat: unknown[] = []
          for (const [i, v, o] of picks) {
            const e = variant(signed[i]!, v, signed[o]!)
            flat.push(e.id, e.pubkey, e.sig, e.serialized)
          }
          // A few malformed fields, as a buggy caller might send.
          if (picks.length > 0) flat.push(42, 'x', null, 'y')
          expect(Array.from(checkFlat(native, flat))).toEqual(
            Array.from(checkFlat(withoutIt as SchnorrVerifier, flat)),
          )
        },
      ),
      { numRuns: 100 },
    )
  })
})

describe.each([
  { threads: 0, backend: 'auto' },
  { threads: 1, backend: 'auto' },
  { threads: 2, backend: 'auto' },
  { threads: 2, backend: 'wasm' },
] as const)('VerifyPool threads=$threads backend=$backend', ({ threads, backend }) => {
  let pool: VerifyPool
  beforeAll(async () => {
    pool = await VerifyPool.create({ threads, backend, maxBatch: 64 })
  })
  afterAll(() => pool.close())

  it('reports its backend and threads', () => {
    expect(pool.threads).toBe(threads)
    if (backend === 'wasm') expect(pool.backend).toBe('wasm')
    else expect(pool.backend).toBe(backends.has('native') ? 'native' : 'wasm')
  })

  it('matches every verdict to its event, thousands at once', async () => {
    const count = backend === 'wasm' ? 1200 : 4000
    const plan = fc.sample(fc.tuple(fc.nat(signed.length - 1), fc.constantFrom(...VARIANTS)), {
      numRuns: count,
      seed: 340 + threads,
    })
    const checks = plan.map(([i, v]) =>
      variant(signed[i] as Signed, v, signed[(i + 1) % signed.length] as Signed),
    )
    // Submitted over several turns of the event loop too, not only in one.
    const results: Promise<CheckResult>[] = []
    for (let i = 0; i < checks.length; i++) {
      results.push(pool.check(checks[i] as EventCheck))
      if (i % 700 === 0) await new Promise((r) => setImmediate(r))
    }
    expect(await Promise.all(results)).toEqual(plan.map(([, v]) => verdict[v]))
    expect(pool.pending).toBe(0)
  })
})

describe('VerifyPool with workers: small turns on the calling thread', () => {
  it('checks a turn of at most inlineBatch events itself and sends larger turns to the workers, with the same verdicts', async () => {
    const pool = await VerifyPool.create({
      threads: 2,
      backend: 'auto',
      maxBatch: 64,
      inlineBatch: 16,
    })
    // Only the native verifier checks on the calling thread; without it every turn goes out.
    const inlineBatch = pool.backend === 'native' ? 16 : 0
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.array(fc.tuple(fc.nat(signed.length - 1), fc.constantFrom(...VARIANTS)), {
              minLength: 1,
              maxLength: 40,
            }),
            { minLength: 1, maxLength: 6 },
          ),
          async (turns) => {
            const before = pool.counts
            let small = 0
            let large = 0
            const results: Promise<CheckResult>[] = []
            const expected: CheckResult[] = []
            for (const turn of turns) {
              for (const [i, v] of turn) {
                const other = signed[(i + 1) % signed.length] as Signed
                results.push(pool.check(variant(signed[i] as Signed, v, other)))
                expected.push(verdict[v])
              }
              if (turn.length <= inlineBatch) small += turn.length
              else large += turn.length
              await new Promise((r) => setImmediate(r)) // the turn is flushed
            }
            expect(await Promise.all(results)).toEqual(expected)
            const after = pool.counts
            expect(after.inline - before.inline).toBe(small)
            expect(after.workers - before.workers).toBe(large)
          },
        ),
        { numRuns: 40 },
      )
      expect(pool.pending).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it.each([
    { why: 'the WASM verifier, whose checks take milliseconds', backend: 'wasm', inlineBatch: 16 },
    { why: 'inlineBatch 0', backend: 'auto', inlineBatch: 0 },
  ] as const)('sends every turn to the workers with $why', async ({ backend, inlineBatch }) => {
    const pool = await VerifyPool.create({ threads: 1, backend, inlineBatch })
    try {
      const results = await Promise.all(signed.slice(0, 3).map((c) => pool.check(c)))
      expect(results).toEqual(['ok', 'ok', 'ok'])
      expect(pool.counts).toEqual({ inline: 0, workers: 3 })
    } finally {
      await pool.close()
    }
  })
})

describe('VerifyPool failures', () => {
  it('rejects the checks of a worker that dies, replaces it, and keeps working', async () => {
    const pool = await VerifyPool.create({ threads: 2, backend: 'auto', maxBatch: 32 })
    try {
      const checks = Array.from({ length: 2000 }, (_, i) => signed[i % signed.length] as Signed)
      const results = checks.map((c) => pool.check(c))
      await new Promise((r) => setImmediate(r)) // the batches are posted
      await pool.terminateWorker(0)
      const settled = await Promise.allSettled(results)
      const rejected = settled.filter((s) => s.status === 'rejected')
      const fulfilled = settled.filter((s) => s.status === 'fulfilled')
      expect(rejected.length).toBeGreaterThan(0)
      expect(rejected.length + fulfilled.length).toBe(checks.length)
      for (const r of rejected) {
        expect(r.reason).toBeInstanceOf(VerifyWorkerCrashedError)
        expect((r.reason as VerifyWorkerCrashedError).code).toBe('HANSA_VERIFY_WORKER_CRASHED')
      }
      for (const f of fulfilled) expect(f.value).toBe('ok')
      expect(pool.pending).toBe(0)
      // The replacement works, and so does the survivor.
      const again = await Promise.all(signed.map((c) => pool.check(c)))
      expect(again.every((r) => r === 'ok')).toBe(true)
    } finally {
      await pool.close()
    }
  })

  it('rejects an unavailable backend at create()', async () => {
    if (backends.has('native')) return
    await expect(VerifyPool.create({ threads: 1, backend: 'native' })).rejects.toMatchObject({
      code: 'HANSA_VERIFIER_UNAVAILABLE',
    })
  })

  it('close() finishes submitted checks, stops every worker, then refuses new checks', async () => {
    // Worker threads are OS threads: count them (Linux), after one warm-up pool has started
    // whatever the process starts once (libuv's thread pool).
    await (await VerifyPool.create({ threads: 1, backend: 'auto' })).close()
    const before = osThreads()
    const pool = await VerifyPool.create({ threads: 2, backend: 'auto' })
    if (before !== null) expect(osThreads()).toBeGreaterThanOrEqual(before + 2)
    const inFlight = signed.map((c) => pool.check(c))
    await pool.close()
    expect((await Promise.all(inFlight)).every((r) => r === 'ok')).toBe(true)
    if (before !== null) await expect.poll(osThreads, { timeout: 2000 }).toBe(before)
    await expect(pool.check(signed[0] as Signed)).rejects.toBeInstanceOf(VerifyPoolClosedError)
    await pool.close() // idempotent
  })
})

function osThreads(): number | null {
  try {
    return readdirSync('/proc/self/task').length
  } catch {
    return null
  }
}
