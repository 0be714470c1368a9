// The one-time setup token: how a coordinator lets the setup ceremony found a federation on a
// standalone node without putting a key on it. The node makes a random token at start (or
// takes `federation.setupToken`), prints it, and accepts it once, in the `Hansa-Setup-Token`
// header of a genesis draft or a genesis chain; the first request it authorises spends it.
// A node that already follows (or is pinned to) a federation has none.
import { randomBytes, timingSafeEqual } from 'node:crypto'

export const SETUP_TOKEN_HEADER = 'hansa-setup-token'

export class SetupToken {
  private value: string | null

  constructor(configured: string) {
    this.value = configured === '' ? `hst_${randomBytes(18).toString('base64url')}` : configured
  }

  /** The token while it is unspent, else null. */
  current(): string | null {
    return this.value
  }

  /** Whether `presented` is the unspent token (compared in constant time). */
  matches(presented: unknown): boolean {
    if (this.value === null || typeof presented !== 'string') return false
    const a = Buffer.from(presented)
    const b = Buffer.from(this.value)
    return a.length === b.length && timingSafeEqual(a, b)
  }

  spend(): void {
    this.value = null
  }
}
