// The pre-signed corpus: valid signed events in the promised mix, sized like real traffic.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { verifyEvent } from 'nostr-tools/pure'
import { afterAll, describe, expect, it } from 'vitest'
import {
  KIND_GIFT_WRAP,
  KIND_NOTE,
  buildCorpus,
  corpusStats,
  loadCorpus,
  makeKeys,
  nip44PaddedLength,
  saveCorpus,
  signRange,
} from '../dist/event-corpus.js'
import { loadSigner } from '../dist/signer.js'

const dir = mkdtempSync(join(tmpdir(), 'hansa-bench-test-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('nip44PaddedLength', () => {
  // calc_padded_len vectors from NIP-44 (nip44.vectors.json, "valid" → "calc_padded_len").
  const vectors = [
    [16, 32],
    [32, 32],
    [33, 64],
    [37, 64],
    [45, 64],
    [49, 64],
    [64, 64],
    [65, 96],
    [100, 128],
    [111, 128],
    [200, 224],
    [250, 256],
    [320, 320],
    [383, 384],
    [384, 384],
    [400, 448],
    [500, 512],
    [512, 512],
    [515, 640],
    [700, 768],
    [800, 896],
    [900, 1024],
    [1020, 1024],
    [65536, 65536],
  ] as const
  it.each(vectors)('pads %i bytes to %i', (len, padded) => {
    expect(nip44PaddedLength(len)).toBe(padded)
  })
})

describe('signRange', async () => {
  const signer = await loadSigner('pure')
  const keys = makeKeys(signer, 5, 3)
  const now = 1_750_000_000
  const events = signRange(
    {
      start: 0,
      count: 12,
      now,
      authors: keys.authors,
      recipientPubkeys: keys.recipients.map((r) => r.pk),
      backend: 'pure',
    },
    signer,
  )
  const parsed = events.map((e) => JSON.parse(e.message))

  it('serialises each event once as a valid, signed EVENT message', () => {
    for (const [i, m] of parsed.entries()) {
      expect(m[0]).toBe('EVENT')
      expect(m[1].id).toBe(events[i]!.id)
      expect(m[1].kind).toBe(events[i]!.kind)
      expect(verifyEvent(m[1])).toBe(true)
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(12)
  })

  it('alternates notes by the authors and gift wraps for the recipients', () => {
    const authors = new Set(keys.authors.map((a) => a.pk))
    const recipients = new Set(keys.recipients.map((r) => r.pk))
    for (const [i, m] of parsed.entries()) {
      const ev = m[1]
      if (i % 2 === 0) {
        expect(ev.kind).toBe(KIND_NOTE)
        expect(authors.has(ev.pubkey)).toBe(true)
        expect(ev.created_at).toBeLessThanOrEqual(now)
        expect(ev.created_at).toBeGreaterThan(now - 3600)
      } else {
        expect(ev.kind).toBe(KIND_GIFT_WRAP)
        expect(authors.has(ev.pubkey)).toBe(false) // a one-time key
        expect(ev.tags).toHaveLength(1)
        expect(ev.tags[0][0]).toBe('p')
        expect(recipients.has(ev.tags[0][1])).toBe(true)
        expect(ev.content.length).toBeGreaterThan(900)
        expect(ev.content.length).toBeLessThan(1500)
      }
    }
  })

  it('reports count and mean size per kind', () => {
    const stats = corpusStats(events)
    expect(Object.keys(stats)).toEqual(['kind1', 'kind1059'])
    expect(stats.kind1!.count).toBe(6)
    expect(stats.kind1059!.meanBytes).toBeGreaterThan(stats.kind1!.meanBytes)
  })
})

describe('buildCorpus', () => {
  it('signs in worker threads and keeps corpus order', async () => {
    const signer = await loadSigner('auto')
    const keys = makeKeys(signer, 4, 2)
    const corpus = await buildCorpus({ keys, count: 9, now: 1_750_000_000, threads: 2 })
    expect(corpus.threads).toBe(2)
    expect(corpus.events.map((e) => e.kind)).toEqual([1, 1059, 1, 1059, 1, 1059, 1, 1059, 1])
    for (const e of corpus.events) expect(verifyEvent(JSON.parse(e.message)[1])).toBe(true)

    const path = join(dir, 'corpus.jsonl')
    const header = {
      corpus: 'hansa-relay-load',
      version: 1,
      now: 1_750_000_000,
      count: 9,
      keys,
      backend: corpus.backend,
    } as const
    saveCorpus(path, header, corpus.events)
    expect(loadCorpus(path)).toEqual({ header, events: corpus.events })
    expect(loadCorpus(join(dir, 'missing.jsonl'))).toBeUndefined()
  })
})
