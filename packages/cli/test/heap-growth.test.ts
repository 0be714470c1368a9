// `hansa node start` fixes V8's heap growing factor (heap-growth.ts), unless node was started
// with its own.
import { describe, expect, it } from 'vitest'
import { HEAP_GROWING_PERCENT, setHeapGrowth } from '../src/commands/heap-growth.js'

describe('heap growth for hansa node start', () => {
  it('leaves a factor given on the command line alone', () => {
    expect(setHeapGrowth(['--heap-growing-percent=300'])).toBe(false)
    expect(setHeapGrowth(['--max-old-space-size=512', '--heap-growing-percent', '80'])).toBe(false)
  })

  it('sets its own otherwise, above 1.5 so the room after a collection outgrows the young generation', () => {
    expect(setHeapGrowth(['--max-old-space-size=512'])).toBe(true)
    expect(HEAP_GROWING_PERCENT).toBeGreaterThanOrEqual(150)
  })
})
