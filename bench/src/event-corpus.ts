// The benchmark's corpus: events signed before any clock starts, each already serialised as
// the `["EVENT", …]` text sent on the wire, so the timed loops only call `send`.
//
// The mix is the inbox node's: event i is a kind-1 note when i is even and a kind-1059 gift
// wrap when i is odd.
// - Notes come from a pool of author keys (default 200), are 20 to 280 characters of text,
//   a third are replies (an `e` and a `p` tag), and are dated within the last hour.
// - Gift wraps are made as NIP-59 makes them: a fresh one-time key each, one `p` tag naming
//   one of the recipients (default 100), created_at up to two days in the past, and content
//   the size of a NIP-44 payload sealing a short direct message (random bytes, base64; the
//   node cannot read it anyway).
//
// Signing runs in worker threads (sign-worker.ts), one per core by default.
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs'
import { cpus } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { EventTemplate } from 'nostr-tools/core'
import type { Signer, SignerBackend } from './signer.js'

export const KIND_NOTE = 1
export const KIND_GIFT_WRAP = 1059
/** Notes are dated within this many seconds before the corpus's `now`. */
export const NOTE_WINDOW_SECONDS = 3600
/** NIP-59 randomises a gift wrap's created_at up to two days into the past. */
export const GIFT_WRAP_BACKDATE_SECONDS = 2 * 86400

export type KeyPair = { sk: string; pk: string }
export type CorpusKeys = { authors: KeyPair[]; recipients: KeyPair[] }

/** One pre-signed event: its id (to match the OK), its kind and the whole EVENT message. */
export type PreparedEvent = { id: string; kind: number; message: string }

/** What a signing thread is asked to make: events start … start+count-1 of the corpus. */
export type SignJob = {
  start: number
  count: number
  /** Unix seconds the corpus is dated from. */
  now: number
  authors: KeyPair[]
  recipientPubkeys: string[]
  backend: SignerBackend | 'auto'
}

export type Random = () => number

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))
const pick = <T>(list: readonly T[], rand: Random): T => list[Math.floor(rand() * list.length)]!

export const kindOf = (index: number): number => (index % 2 === 0 ? KIND_NOTE : KIND_GIFT_WRAP)

/** NIP-44 v2 pads a plaintext of `len` bytes to this many (the spec's calc_padded_len). */
export function nip44PaddedLength(len: number): number {
  if (len <= 32) return 32
  const nextPower = 2 ** Math.ceil(Math.log2(len))
  const chunk = nextPower <= 256 ? 32 : nextPower / 8
  return chunk * (Math.floor((len - 1) / chunk) + 1)
}

/** Length of a NIP-44 v2 payload (base64 of version, nonce, length prefix, padded text, MAC). */
export const nip44PayloadLength = (plaintextLength: number): number =>
  Math.ceil((1 + 32 + 2 + nip44PaddedLength(plaintextLength) + 32) / 3) * 4

const WORDS = (
  'the of and to in is it you that he was for on are with as his they be at one have this from ' +
  'or had by hot word but what some we can out other were all there when up use your how said ' +
  'an each she which do their time if will way about many then them write would like so these ' +
  'relay nostr node zap key note paid inbox federation lightning cheque bitcoin market'
).split(' ')

function text(rand: Random, minChars: number, maxChars: number): string {
  const target = minChars + Math.floor(rand() * (maxChars - minChars + 1))
  let s = pick(WORDS, rand)
  while (s.length < target) s += ` ${pick(WORDS, rand)}`
  return s.slice(0, target)
}

/** A kind-1 note by one of the authors; a third are replies (an `e` and a `p` tag). */
export function noteTemplate(rand: Random, now: number, authorPubkeys: string[]): EventTemplate {
  const tags: string[][] = []
  if (rand() < 1 / 3) {
    tags.push(['e', hex(randomBytes(32)), '', 'root'], ['p', pick(authorPubkeys, rand)])
  }
  return {
    kind: KIND_NOTE,
    created_at: now - Math.floor(rand() * NOTE_WINDOW_SECONDS),
    tags,
    content: text(rand, 20, 280),
  }
}

/**
 * A kind-1059 gift wrap for `recipient`. Its content has the length of a NIP-44 payload
 * around a seal of 600 to 1000 bytes (a kind-13 seal holding a short kind-14 message).
 */
export function giftWrapTemplate(rand: Random, now: number, recipient: string): EventTemplate {
  const sealLength = 600 + Math.floor(rand() * 401)
  const payloadBytes = (nip44PayloadLength(sealLength) / 4) * 3
  return {
    kind: KIND_GIFT_WRAP,
    created_at: now - Math.floor(rand() * GIFT_WRAP_BACKDATE_SECONDS),
    tags: [['p', recipient]],
    content: randomBytes(payloadBytes).toString('base64'),
  }
}

/** Signs events `job.start` … `job.start + job.count - 1` (the work of one thread). */
export function signRange(
  job: SignJob,
  signer: Signer,
  rand: Random = Math.random,
  onProgress?: (done: number) => void,
): PreparedEvent[] {
  const authorKeys = job.authors.map((a) => unhex(a.sk))
  const authorPubkeys = job.authors.map((a) => a.pk)
  const out: PreparedEvent[] = []
  for (let n = 0; n < job.count; n++) {
    const kind = kindOf(job.start + n)
    const event =
      kind === KIND_NOTE
        ? signer.finalize(noteTemplate(rand, job.now, authorPubkeys), pick(authorKeys, rand))
        : signer.finalize(
            giftWrapTemplate(rand, job.now, pick(job.recipientPubkeys, rand)),
            signer.secretKey(), // a one-time key per wrap, as NIP-59 asks
          )
    const { id, pubkey, created_at, tags, content, sig } = event
    const wire = { id, pubkey, created_at, kind, tags, content, sig }
    out.push({ id, kind, message: `["EVENT",${JSON.stringify(wire)}]` })
    if (onProgress && (n + 1) % 1000 === 0) onProgress(n + 1)
  }
  return out
}

/** Fresh author and recipient keys (hex). */
export function makeKeys(signer: Signer, authors: number, recipients: number): CorpusKeys {
  const pair = (): KeyPair => {
    const sk = signer.secretKey()
    return { sk: hex(sk), pk: signer.publicKey(sk) }
  }
  return {
    authors: Array.from({ length: authors }, pair),
    recipients: Array.from({ length: recipients }, pair),
  }
}

export type BuildCorpusOptions = {
  keys: CorpusKeys
  count: number
  /** Unix seconds the events are dated from. */
  now: number
  /** Signing threads; 0 signs on this thread. Default: one per core. */
  threads?: number
  backend?: SignerBackend | 'auto'
  /** Called with the number of events signed so far (about once per 1,000). */
  onProgress?: (signed: number) => void
  /** Used when threads is 0. */
  signer?: Signer
}

export type Corpus = {
  events: PreparedEvent[]
  backend: SignerBackend
  threads: number
  signSeconds: number
}

type WorkerMessage =
  | { type: 'progress'; done: number }
  | { type: 'done'; events: PreparedEvent[]; backend: SignerBackend }

function signInWorker(job: SignJob, onProgress: (done: number) => void) {
  return new Promise<{ events: PreparedEvent[]; backend: SignerBackend }>((resolve, reject) => {
    const worker = new Worker(new URL('./sign-worker.js', import.meta.url), { workerData: job })
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') onProgress(m.done)
      else resolve(m)
    })
    worker.on('error', reject)
    worker.on('exit', (code) => {
      if (code !== 0) reject(new Error(`signing thread exited with code ${code}`))
    })
  })
}

/** Signs `count` events across `threads` worker threads; events come back in corpus order. */
export async function buildCorpus(options: BuildCorpusOptions): Promise<Corpus> {
  const started = performance.now()
  const threads = Math.min(options.threads ?? cpus().length, options.count)
  const base = {
    now: options.now,
    authors: options.keys.authors,
    recipientPubkeys: options.keys.recipients.map((r) => r.pk),
    backend: options.backend ?? 'auto',
  }
  if (threads <= 0) {
    if (!options.signer) throw new Error('buildCorpus: threads 0 needs a signer')
    const events = signRange(
      { ...base, start: 0, count: options.count },
      options.signer,
      Math.random,
      options.onProgress,
    )
    return {
      events,
      backend: options.signer.backend,
      threads: 0,
      signSeconds: (performance.now() - started) / 1000,
    }
  }
  const done = new Array<number>(threads).fill(0)
  const report = () => options.onProgress?.(done.reduce((a, b) => a + b, 0))
  const jobs: Promise<{ events: PreparedEvent[]; backend: SignerBackend }>[] = []
  let start = 0
  for (let t = 0; t < threads; t++) {
    const count = Math.floor(options.count / threads) + (t < options.count % threads ? 1 : 0)
    jobs.push(
      signInWorker({ ...base, start, count }, (n) => {
        done[t] = n
        report()
      }),
    )
    start += count
  }
  const parts = await Promise.all(jobs)
  return {
    events: parts.flatMap((p) => p.events),
    backend: parts[0]?.backend ?? 'pure',
    threads,
    signSeconds: (performance.now() - started) / 1000,
  }
}

/** Count and mean serialised size (the event's JSON, without the EVENT envelope) per kind. */
export function corpusStats(
  events: readonly PreparedEvent[],
): Record<string, { count: number; meanBytes: number }> {
  const acc = new Map<number, { count: number; bytes: number }>()
  for (const e of events) {
    const a = acc.get(e.kind) ?? { count: 0, bytes: 0 }
    a.count++
    a.bytes += Buffer.byteLength(e.message) - '["EVENT",]'.length
    acc.set(e.kind, a)
  }
  const out: Record<string, { count: number; meanBytes: number }> = {}
  for (const [kind, a] of [...acc].sort((x, y) => x[0] - y[0])) {
    out[`kind${kind}`] = { count: a.count, meanBytes: Math.round(a.bytes / a.count) }
  }
  return out
}

/** The first line of a corpus file: what it holds and the keys that signed it. */
export type CorpusHeader = {
  corpus: 'hansa-relay-load'
  version: 1
  now: number
  count: number
  keys: CorpusKeys
  backend: SignerBackend
}

/**
 * Saves a signed corpus to reuse in later runs (one JSON line of header, then one line per
 * event). Its keys are throwaway benchmark identities, but they are secret keys all the same.
 */
export function saveCorpus(
  path: string,
  header: CorpusHeader,
  events: readonly PreparedEvent[],
): void {
  const fd = openSync(path, 'w', 0o600)
  try {
    writeSync(fd, `${JSON.stringify(header)}\n`)
    const chunk = 2000
    for (let i = 0; i < events.length; i += chunk) {
      writeSync(
        fd,
        `${events
          .slice(i, i + chunk)
          .map((e) => JSON.stringify(e))
          .join('\n')}\n`,
      )
    }
  } finally {
    closeSync(fd)
  }
}

/** Reads a file written by saveCorpus; undefined if there is none or it is not one. */
export function loadCorpus(
  path: string,
): { header: CorpusHeader; events: PreparedEvent[] } | undefined {
  if (!existsSync(path)) return undefined
  const lines = readFileSync(path, 'utf8').split('\n')
  const header = JSON.parse(lines[0] ?? '{}') as CorpusHeader
  if (header.corpus !== 'hansa-relay-load' || header.version !== 1) return undefined
  const events: PreparedEvent[] = []
  for (let i = 1; i < lines.length; i++)
    if (lines[i]) events.push(JSON.parse(lines[i]!) as PreparedEvent)
  if (events.length !== header.count) return undefined
  return { header, events }
}
