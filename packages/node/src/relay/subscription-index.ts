// Which open subscriptions a new event may match, found through indexes instead of by trying
// every filter of every connection (strfry's ActiveMonitors does the same). Each filter is
// filed under one of its conditions — its ids, else its authors, else the values of its first
// tag condition, else its kinds; a filter with none of them (since/until only) is kept in a
// short list tried for every event. An event then looks up its own id, pubkey, kind and each
// of its tag values, and only the subscriptions found are matched in full, against filters
// compiled to sets. An event with thousands of tags against filters with a thousand values
// each costs a few thousand map lookups, not millions of comparisons.
import { type Filter, type NostrEvent, tagConditions } from '@hansa/protocol'

/** A filter with its value lists as sets, for matching many events against it. */
export type CompiledFilter = {
  ids?: Set<string>
  authors?: Set<string>
  kinds?: Set<number>
  since?: number
  until?: number
  tags: Array<[string, Set<string>]>
}

export function compileFilter(filter: Filter): CompiledFilter {
  const compiled: CompiledFilter = {
    tags: tagConditions(filter).map(([letter, values]) => [letter, new Set(values)]),
  }
  if (filter.ids) compiled.ids = new Set(filter.ids)
  if (filter.authors) compiled.authors = new Set(filter.authors)
  if (filter.kinds) compiled.kinds = new Set(filter.kinds)
  if (filter.since !== undefined) compiled.since = filter.since
  if (filter.until !== undefined) compiled.until = filter.until
  return compiled
}

export function matchesCompiled(f: CompiledFilter, e: NostrEvent): boolean {
  if (f.ids && !f.ids.has(e.id)) return false
  if (f.kinds && !f.kinds.has(e.kind)) return false
  if (f.authors && !f.authors.has(e.pubkey)) return false
  if (f.since !== undefined && e.created_at < f.since) return false
  if (f.until !== undefined && e.created_at > f.until) return false
  for (const [letter, values] of f.tags) {
    let found = false
    for (const t of e.tags) {
      if (t[0] === letter && t[1] !== undefined && values.has(t[1])) {
        found = true
        break
      }
    }
    if (!found) return false
  }
  return true
}

type Bucket<E> = Map<string | number, Set<E>>

export class SubscriptionIndex<E extends { compiled: readonly CompiledFilter[] }> {
  private readonly byId: Bucket<E> = new Map()
  private readonly byAuthor: Bucket<E> = new Map()
  private readonly byKind: Bucket<E> = new Map()
  private readonly byTag: Bucket<E> = new Map()
  private readonly scanned = new Set<E>()
  private readonly filed = new Map<E, Array<[Bucket<E>, string | number]>>()

  get size(): number {
    return this.filed.size
  }

  add(entry: E): void {
    const keys: Array<[Bucket<E>, string | number]> = []
    for (const f of entry.compiled) {
      if (f.ids) for (const id of f.ids) keys.push([this.byId, id])
      else if (f.authors) for (const a of f.authors) keys.push([this.byAuthor, a])
      else if (f.tags.length > 0) {
        const [letter, values] = f.tags[0]!
        for (const v of values) keys.push([this.byTag, `${letter}:${v}`])
      } else if (f.kinds) for (const k of f.kinds) keys.push([this.byKind, k])
      else this.scanned.add(entry)
    }
    for (const [bucket, key] of keys) {
      let set = bucket.get(key)
      if (!set) {
        set = new Set()
        bucket.set(key, set)
      }
      set.add(entry)
    }
    this.filed.set(entry, keys)
  }

  remove(entry: E): void {
    const keys = this.filed.get(entry)
    if (!keys) return
    this.filed.delete(entry)
    this.scanned.delete(entry)
    for (const [bucket, key] of keys) {
      const set = bucket.get(key)
      if (!set) continue
      set.delete(entry)
      if (set.size === 0) bucket.delete(key)
    }
  }

  /** The subscriptions the event matches (each once). */
  matching(e: NostrEvent): E[] {
    const candidates = new Set<E>(this.scanned)
    const add = (set: Set<E> | undefined) => {
      if (set) for (const x of set) candidates.add(x)
    }
    add(this.byId.get(e.id))
    add(this.byAuthor.get(e.pubkey))
    add(this.byKind.get(e.kind))
    if (this.byTag.size > 0) {
      for (const t of e.tags) {
        if (t[0] !== undefined && t[0].length === 1 && t[1] !== undefined) {
          add(this.byTag.get(`${t[0]}:${t[1]}`))
        }
      }
    }
    const out: E[] = []
    for (const entry of candidates) {
      if (entry.compiled.some((f) => matchesCompiled(f, e))) out.push(entry)
    }
    return out
  }
}
