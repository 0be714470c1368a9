// Reads an event's created_at and id straight out of its stored JSON, without parsing the
// rest: the reader needs them for NIP-01's order (newest first, then the lowest id) on every
// row it returns, and parsing a whole event per row would cost more than the query.
//
// In a valid event the keys are top-level only (tags are arrays of strings, and a quote inside
// a string is escaped), so the first `"created_at"` followed by a colon is the key itself. A
// text that does not read as expected is parsed whole, so an odd spacing costs time, never a
// wrong answer.

const CREATED_AT = '"created_at"'
const ID = '"id"'

/** The index just past `key` and its colon (spaces allowed around it), or -1. */
function valueStart(raw: string, key: string): number {
  let from = 0
  for (;;) {
    const at = raw.indexOf(key, from)
    if (at < 0) return -1
    let i = at + key.length
    while (raw.charCodeAt(i) <= 32) i++
    if (raw.charCodeAt(i) === 58 /* : */) {
      i++
      while (raw.charCodeAt(i) <= 32) i++
      return i
    }
    from = at + 1
  }
}

/**
 * Where created_at's digits start in the layout the relay stores (`{"id":"…","pubkey":"…",
 * "created_at":`), else -1. In valid JSON the unescaped `","created_at":` can only be that
 * key (inside a string its quotes would be escaped), so one comparison in place is enough.
 */
function storedLayoutStart(raw: string): number {
  return raw.startsWith('","created_at":', 147) ? 162 : -1
}

export function createdAtOf(raw: string): number {
  const fixed = storedLayoutStart(raw)
  const start = fixed >= 0 ? fixed : valueStart(raw, CREATED_AT)
  let value = 0
  let i = start
  for (; start >= 0; i++) {
    const digit = raw.charCodeAt(i) - 48
    if (!(digit >= 0 && digit <= 9)) break
    value = value * 10 + digit
  }
  if (i > start && start >= 0 && Number.isSafeInteger(value)) return value
  return (JSON.parse(raw) as { created_at: number }).created_at
}

export function idOf(raw: string): string {
  if (raw.startsWith('{"id":"') && raw.charCodeAt(71) === 34) return raw.slice(7, 71)
  const start = valueStart(raw, ID)
  if (start >= 0 && raw.charCodeAt(start) === 34 /* " */ && raw.charCodeAt(start + 65) === 34) {
    return raw.slice(start + 1, start + 65)
  }
  return (JSON.parse(raw) as { id: string }).id
}
