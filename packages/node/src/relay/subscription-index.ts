// Which open subscriptions a new event may match, found through indexes instead of by trying
// every filter of every connection (strfry's ActiveMonitors does the same). Each filter is
// filed under one of its conditions — its ids, else its authors, else the values of its first
// tag condition, else its kinds; a filter with none of them (since/until only) is kept in a
// short list tried for every event. An event then looks up its own id, pubkey, kind and each
// of its tag values, and only the subscriptions found are matched in full, against filters
// compiled to sets and the event's tags grouped once into sets. An event with thousands of
// tags against filters with a thousand values each costs a few thousand map lookups, not
// millions of comparisons: what a tag-heavy event costs here grows with its size, which the
// event rate limit already charges (a token per started 2 KiB), and with the index's size.
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

/**
 * An event's single-letter tag values by letter, built once per event: matching its tag
 * conditions then costs one set lookup per filter value at most, whatever the event's tag
 * count, instead of a walk over all its tags per condition.
 */
export type EventTags = Map<string, Set<string>>

export function eventTags(e: NostrEvent): EventTags {
  const tags: EventTags = new Map()
  for (const t of e.tags) {
    const letter = t[0]
    const value = t[1]
    if (letter === undefined || letter.length !== 1 || value === undefined) continue
    let values = tags.get(letter)
    if (!values) {
      values = new Set()
      tags.set(letter, values)
    }
    values.add(value)
  }
  return tags
}

export function matchesCompiled(
  f: CompiledFilter,
  e: NostrEvent,
  tags: EventTags = eventTags(e),
): boolean {
  if (f.ids && !f.ids.has(e.id)) return false
  if (f.kinds && !f.kinds.has(e.kind)) return false
  if (f.authors && !f.authors.has(e.pubkey)) return false
  if (f.since !== undefined && e.created_at < f.since) return false
  if (f.until !== undefined && e.created_at > f.until) return false
  for (const [letter, values] of f.tags) {
    const have = tags.get(letter)
    if (!have || !intersects(values, have)) return false
  }
  return true
}

/** Whether two sets share a value, walking the smaller. */
function intersects(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a]
  for (const v of small) if (large.has(v)) return true
  return false
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

  /**
   * The subscriptions the event matches (each once). A tag-heavy event costs one pass over its
   * tags (to group them) and then at most as many lookups as the index has tag keys or the
   * event has distinct tag values, whichever is fewer; each candidate is then matched against
   * the grouped tags, never by walking the event's tags again.
   */
  matching(e: NostrEvent): E[] {
    const candidates = new Set<E>(this.scanned)
    const add = (set: Set<E> | undefined) => {
      if (set) for (const x of set) candidates.add(x)
    }
    add(this.byId.get(e.id))
    add(this.byAuthor.get(e.pubkey))
    add(this.byKind.get(e.kind))
    const tags = eventTags(e)
    if (this.byTag.size > 0) {
      let distinct = 0
      for (const values of tags.values()) distinct += values.size
      if (distinct <= this.byTag.size) {
        for (const [letter, values] of tags) {
          for (const v of values) add(this.byTag.get(`${letter}:${v}`))
        }
      } else {
        for (const [key, set] of this.byTag) {
          const k = key as string // tag keys are "letter:value"
          if (tags.get(k[0]!)?.has(k.slice(2))) add(set)
        }
      }
    }
    const out: E[] = []
    for (const entry of candidates) {
      if (entry.compiled.some((f) => matchesCompiled(f, e, tags))) out.push(entry)
    }
    return out
  }
}
