// What one process of a node learns of changes made by the others: a credit moves a peer's
// balance (`swap <peer>`), a subscription paid or changed moves access (`subs`), the
// federation's chain or proposals changed (`fed`). Each
// arrives by NOTIFY on its own LISTEN connection; if that connection breaks, it is reopened
// with a growing delay and everything kept is read again, so a missed notification costs at
// most a refusal or an admission until then — the balances themselves are the database's.
import type pg from 'pg'
import { reconnectWithBackoff } from '../store/pg-reconnect.js'
import { BILLING_CHANNEL } from './pg-schema.js'

export type BillingChanges = {
  onSwap?(peer: string): void
  onSubscriptions?(): void
  /** The federation's chain or proposals changed (pg-manifest-store.ts). */
  onFederation?(): void
  onReconnect(): void
}

export class BillingListener {
  private client: pg.Client | undefined
  private stopped = false

  private constructor(
    private readonly url: string,
    private readonly changes: BillingChanges,
  ) {}

  static async start(url: string, changes: BillingChanges): Promise<BillingListener> {
    const listener = new BillingListener(url, changes)
    await listener.connect()
    return listener
  }

  private async connect(): Promise<void> {
    const { default: pgModule } = await import('pg')
    const client = new pgModule.Client({
      connectionString: this.url,
      application_name: 'hansa-billing',
    })
    client.on('error', () => this.reconnect(client))
    client.on('end', () => this.reconnect(client))
    client.on('notification', (n) => {
      const payload = n.payload ?? ''
      if (payload.startsWith('swap ')) this.changes.onSwap?.(payload.slice(5))
      else if (payload === 'subs') this.changes.onSubscriptions?.()
      else if (payload === 'fed') this.changes.onFederation?.()
    })
    await client.connect()
    await client.query(`LISTEN ${BILLING_CHANNEL}`)
    this.client = client
  }

  private reconnect(broken: pg.Client): void {
    if (this.client !== broken || this.stopped) return
    this.client = undefined
    broken.end().catch(() => {})
    reconnectWithBackoff({
      delay: 100,
      stopped: () => this.stopped,
      connect: () => this.connect(),
      onConnected: () => this.changes.onReconnect(),
    })
  }

  async stop(): Promise<void> {
    this.stopped = true
    const client = this.client
    this.client = undefined
    await client?.end().catch(() => {})
  }
}
