// verifiers: how fast each BIP-340 backend verifies, alone and through the relay's VerifyPool.
// Prints ONE JSON line on stdout; progress goes to stderr. Runs in about 20 s by default.
//
//   npm run -s bench:verify                       (after npm run build)
//   npm run -s bench:verify -- --seconds 3 --events 2000
//
// It signs a corpus of distinct Nostr events with @noble/curves first (never timed; noble's
// sign costs ~3 ms as it verifies its own result), then measures:
//   single   verifications/s on this thread, one verify(sig, id, pubkey) call per event,
//            cycling through the corpus (also per CPU-second, which other processes on the
//            machine disturb less); native also through verifyBatch (one call per 256)
//   pool     checks/s through VerifyPool (sha256 of the preimage + id compare + verify) with
//            the native and wasm backends on 1 and 2 worker threads (and native inline, 0),
//            two waves of 2048 checks kept in flight; mainThreadUsPerCheck is the calling
//            thread's busy time per check (event-loop utilisation), the cost the relay's
//            main thread pays to hand a check off.
import { createHash } from 'node:crypto'
import { cpus } from 'node:os'
import { performance } from 'node:perf_hooks'
import { schnorr } from '@noble/curves/secp256k1.js'
import {
  type EventCheck,
  type SchnorrVerifier,
  type VerifierName,
  VerifyPool,
  loadVerifier,
} from '../../packages/node/dist/verify/index.js'
import { benchArgs } from './bench-args.js'

const values = benchArgs(import.meta.url, {
  seconds: { type: 'string', default: '1.2' },
  events: { type: 'string', default: '1000' },
})
const seconds = Number(values.seconds)
const corpusSize = Number(values.events)
const log = (line: string) => process.stderr.write(`verifiers: ${line}\n`)

type Signed = EventCheck & { idBytes: Uint8Array; sigBytes: Uint8Array; pubkeyBytes: Uint8Array }

function signCorpus(count: number): Signed[] {
  const keys = Array.from({ length: Math.max(1, Math.ceil(count / 10)) }, () => {
    const secretKey = schnorr.utils.randomSecretKey()
    return { secretKey, pubkey: Buffer.from(schnorr.getPublicKey(secretKey)).toString('hex') }
  })
  const events: Signed[] = []
  for (let i = 0; i < count; i++) {
    const key = keys[i % keys.length] as (typeof keys)[number]
    const tags = i % 3 === 0 ? [['p', key.pubkey]] : []
    const content = `event ${i}: ${'lorem ipsum '.repeat(1 + (i % 20))}`
    const serialized = JSON.stringify([0, key.pubkey, 1_760_000_000 + i, 1, tags, content])
    const idBytes = createHash('sha256').update(serialized).digest()
    const sigBytes = schnorr.sign(idBytes, key.secretKey)
    events.push({
      id: idBytes.toString('hex'),
      pubkey: key.pubkey,
      sig: Buffer.from(sigBytes).toString('hex'),
      serialized,
      idBytes,
      sigBytes,
      pubkeyBytes: Buffer.from(key.pubkey, 'hex'),
    })
  }
  return events
}

type Single = {
  verifiesPerSec: number
  usPerVerify: number
  /** Per second of this process's CPU time: steadier than wall time when others share the cores. */
  verifiesPerCpuSec: number
  batchVerifiesPerSec?: number
}

function measureSingle(v: SchnorrVerifier, events: Signed[]): Single {
  const warm = Math.min(events.length, 50)
  for (let i = 0; i < warm; i++) {
    const e = events[i] as Signed
    v.verify(e.sigBytes, e.idBytes, e.pubkeyBytes)
  }
  let done = 0
  let failures = 0
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  const end = start + seconds * 1000
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) {
      const e = events[(done + i) % events.length] as Signed
      if (!v.verify(e.sigBytes, e.idBytes, e.pubkeyBytes)) failures++
    }
    done += 50
  }
  const elapsed = (performance.now() - start) / 1000
  const cpu = process.cpuUsage(cpu0)
  if (failures > 0) throw new Error(`${v.name}: ${failures} valid signatures rejected`)
  const result: Single = {
    verifiesPerSec: Math.round(done / elapsed),
    usPerVerify: round((elapsed * 1e6) / done),
    verifiesPerCpuSec: Math.round(done / ((cpu.user + cpu.system) / 1e6)),
  }
  if (v.verifyBatch) {
    const per = 256
    const batches = Array.from({ length: Math.ceil(events.length / per) }, (_, b) =>
      Buffer.concat(
        events.slice(b * per, (b + 1) * per).flatMap((e) => [e.sigBytes, e.idBytes, e.pubkeyBytes]),
      ),
    )
    let verified = 0
    const bStart = performance.now()
    const bEnd = bStart + seconds * 1000
    for (let b = 0; performance.now() < bEnd; b++) {
      const records = batches[b % batches.length] as Buffer
      const ok = v.verifyBatch(records)
      if (ok.some((x) => x !== 1))
        throw new Error(`${v.name}: verifyBatch rejected a valid signature`)
      verified += ok.length
    }
    result.batchVerifiesPerSec = Math.round(verified / ((performance.now() - bStart) / 1000))
  }
  return result
}

type PoolResult = {
  backend: string
  threads: number
  checksPerSec: number
  mainThreadUsPerCheck: number
}

async function measurePool(
  backend: VerifierName,
  threads: number,
  events: Signed[],
): Promise<PoolResult> {
  const pool = await VerifyPool.create({ threads, backend })
  const checks: EventCheck[] = events.map(({ id, pubkey, sig, serialized }) => ({
    id,
    pubkey,
    sig,
    serialized,
  }))
  const wave = 2048
  let next = 0
  const submit = () => {
    const results: Promise<string>[] = []
    for (let i = 0; i < wave; i++)
      results.push(pool.check(checks[next++ % checks.length] as EventCheck))
    return Promise.all(results)
  }
  try {
    await submit() // warm-up: workers' JIT, the backend's first calls
    let done = 0
    const elu0 = performance.eventLoopUtilization()
    const start = performance.now()
    const end = start + seconds * 1000
    let inFlight = submit()
    while (performance.now() < end) {
      const following = submit()
      const results = await inFlight
      if (results.some((r) => r !== 'ok')) throw new Error(`pool ${backend}: a valid event failed`)
      done += wave
      inFlight = following
    }
    await inFlight
    done += wave
    const elapsed = (performance.now() - start) / 1000
    const elu = performance.eventLoopUtilization(elu0)
    return {
      backend: pool.backend,
      threads,
      checksPerSec: Math.round(done / elapsed),
      mainThreadUsPerCheck: round((elu.active * 1000) / done),
    }
  } finally {
    await pool.close()
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100
}

async function main(): Promise<void> {
  const t0 = performance.now()
  log(`signing ${corpusSize} events with noble (not timed)…`)
  const events = signCorpus(corpusSize)
  log(`signed in ${Math.round(performance.now() - t0)} ms`)

  const single: Partial<Record<VerifierName, Single>> = {}
  const unavailable: Partial<Record<VerifierName, string>> = {}
  for (const name of ['native', 'wasm', 'noble'] as const) {
    let verifier: SchnorrVerifier
    try {
      verifier = await loadVerifier(name)
    } catch (error) {
      unavailable[name] = (error as Error).message
      log(`${name}: unavailable (${(error as Error).message})`)
      continue
    }
    single[name] = measureSingle(verifier, events)
    log(`${name}: ${JSON.stringify(single[name])}`)
  }

  const pool: PoolResult[] = []
  const plans: [VerifierName, number][] = [
    ['native', 0],
    ['native', 1],
    ['native', 2],
    ['wasm', 1],
    ['wasm', 2],
  ]
  for (const [backend, threads] of plans) {
    if (unavailable[backend]) continue
    const result = await measurePool(backend, threads, events)
    pool.push(result)
    log(`pool ${backend} × ${threads}: ${JSON.stringify(result)}`)
  }

  const cpu = cpus()
  process.stdout.write(
    `${JSON.stringify({
      bench: 'verifiers',
      node: process.version,
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      corpus: corpusSize,
      secondsPerMeasurement: seconds,
      single,
      pool,
      unavailable,
      wallSeconds: round((performance.now() - t0) / 1000),
    })}\n`,
  )
}

await main()
