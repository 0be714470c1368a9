// NIP-01 filters: validation with a reason a person understands, and matching for live
// subscriptions (stored events are matched by the store's query instead).
import type { NostrEvent } from './event.js'

export type Filter = {
  ids?: string[]
  authors?: string[]
  kinds?: number[]
  since?: number
  until?: number
  limit?: number
  search?: string
  [tag: `#${string}`]: string[] | undefined
}

const HEX64 = /^[0-9a-f]{64}$/
const TAG_KEY = /^#[a-zA-Z]$/

export type FilterLimits = {
  /** Most values in one list (ids, authors, kinds, #x). */
  maxValues: number
}

/** Returns the reason the filter is invalid, or null. */
export function filterError(value: unknown, limits: FilterLimits): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return 'filter must be a JSON object'
  }
  for (const [key, v] of Object.entries(value)) {
    if (key === 'ids' || key === 'authors') {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && HEX64.test(x))) {
        return `${key} must be a list of 64-character lowercase hex strings`
      }
      if (v.length > limits.maxValues) return `${key} has more than ${limits.maxValues} values`
    } else if (key === 'kinds') {
      if (!Array.isArray(v) || !v.every((x) => Number.isInteger(x) && x >= 0 && x <= 65535)) {
        return 'kinds must be a list of integers from 0 to 65535'
      }
      if (v.length > limits.maxValues) return `kinds has more than ${limits.maxValues} values`
    } else if (key === 'since' || key === 'until' || key === 'limit') {
      if (!Number.isSafeInteger(v) || (v as number) < 0) {
        return `${key} must be a non-negative integer`
      }
    } else if (key === 'search') {
      if (typeof v !== 'string') return 'search must be a string'
    } else if (TAG_KEY.test(key)) {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) {
        return `${key} must be a list of strings`
      }
      if (v.length > limits.maxValues) return `${key} has more than ${limits.maxValues} values`
    } else {
      return `unknown filter field "${key}"`
    }
  }
  return null
}

/** The single-letter tag conditions of a filter, as [letter, values] pairs. */
export function tagConditions(filter: Filter): Array<[string, string[]]> {
  const out: Array<[string, string[]]> = []
  for (const key of Object.keys(filter)) {
    if (key.length === 2 && key[0] === '#') {
      const values = filter[key as `#${string}`]
      if (values) out.push([key[1]!, values])
    }
  }
  return out
}

export function matchFilter(filter: Filter, e: NostrEvent): boolean {
  if (filter.ids && !filter.ids.includes(e.id)) return false
  if (filter.kinds && !filter.kinds.includes(e.kind)) return false
  if (filter.authors && !filter.authors.includes(e.pubkey)) return false
  if (filter.since !== undefined && e.created_at < filter.since) return false
  if (filter.until !== undefined && e.created_at > filter.until) return false
  for (const [letter, values] of tagConditions(filter)) {
    if (!e.tags.some((t) => t[0] === letter && t[1] !== undefined && values.includes(t[1]))) {
      return false
    }
  }
  return true
}

export function matchFilters(filters: readonly Filter[], e: NostrEvent): boolean {
  for (const f of filters) if (matchFilter(f, e)) return true
  return false
}
