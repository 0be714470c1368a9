// `hansa devnet --sample-orders`: a few orders on each coordinator's book, so the joint book has
// something to show. Each coordinator gets its own sample maker, whose key is kept in the devnet
// folder (makers/<alias>.key) so the orders can be cancelled or completed later with --key.
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type MakeOrderParameters, coordinatorsFromManifest, createOrderBook } from '@hansa/client'
import { createKeyFile, readKeyFile } from '@hansa/node'
import type { DevnetInfo } from '../federation/devnet.js'
import { resolveFederation } from './orders.js'

type Sample = Omit<MakeOrderParameters, 'coordinator'>

const SAMPLES: Record<string, Sample[]> = {
  hanseatic: [
    {
      side: 'sell',
      currency: 'EUR',
      fiatAmount: 100,
      sats: 150_000,
      paymentMethods: ['SEPA', 'Revolut'],
      premium: 1,
      name: 'Hansa Cog',
    },
    {
      side: 'buy',
      currency: 'EUR',
      fiatAmount: [50, 300],
      paymentMethods: ['SEPA Instant'],
      premium: -0.5,
      name: 'Hansa Cog',
    },
    {
      side: 'sell',
      currency: 'USD',
      fiatAmount: 200,
      paymentMethods: ['Zelle', 'Cash App'],
      premium: 2,
      name: 'Hansa Cog',
    },
  ],
  lubeck: [
    {
      side: 'buy',
      currency: 'EUR',
      fiatAmount: 80,
      sats: 120_000,
      paymentMethods: ['Bizum'],
      premium: 0,
      name: 'Salt Trader',
    },
    {
      side: 'sell',
      currency: 'USD',
      fiatAmount: [25, 250],
      paymentMethods: ['Strike', 'Zelle'],
      premium: 1.5,
      name: 'Salt Trader',
    },
    {
      side: 'buy',
      currency: 'EUR',
      fiatAmount: 500,
      sats: 750_000,
      paymentMethods: ['SEPA'],
      premium: -1,
      name: 'Salt Trader',
    },
  ],
}

export type SampleOrder = {
  coordinator: string
  id: string
  side: string
  fiat: string
  currency: string
  maker: string
  makerKey: string
}

/** Makes the sample orders on each coordinator of the devnet; returns what was made. */
export async function addSampleOrders(info: DevnetInfo): Promise<SampleOrder[]> {
  const { manifest } = await resolveFederation({ invite: info.inviteCode })
  const made: SampleOrder[] = []
  mkdirSync(join(info.dataDir, 'makers'), { recursive: true, mode: 0o700 })
  for (const coordinator of manifest.coordinators) {
    const keyFile = join(info.dataDir, 'makers', `${coordinator.alias}.key`)
    const key = existsSync(keyFile) ? readKeyFile(keyFile) : createKeyFile(keyFile)
    const book = createOrderBook({
      coordinators: { coordinators: () => coordinatorsFromManifest(manifest) },
      identity: { secretKey: key.secretKey },
    })
    const samples = SAMPLES[coordinator.alias] ?? SAMPLES.hanseatic!
    for (const sample of samples) {
      const order = await book.make({ coordinator: coordinator.alias, ...sample })
      made.push({
        coordinator: coordinator.alias,
        id: order.id,
        side: order.order.side,
        fiat: order.order.fiatAmount.join('–'),
        currency: order.order.currency,
        maker: order.maker,
        makerKey: keyFile,
      })
    }
  }
  return made
}
