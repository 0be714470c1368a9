// What the evm rail needs from viem and the compiled contracts, in one module the rail loads
// when it starts (import('./evm-lib.js')): a node on another rail never loads viem, and one
// on this rail loads it once, off the path of its first request.
import {
  type ChainClients,
  Chequebook,
  ChequebookFactory,
  PaymentRouter,
  clientsFor,
} from '@hansa/contracts'
import { type Hex, getAddress, isAddressEqual, parseEventLogs } from 'viem'

export { CashOuts } from './evm-cashouts.js'
export { Chequebook, ChequebookFactory, PaymentRouter, getAddress, isAddressEqual, parseEventLogs }

export function nodeClients(rpcUrl: string, chainId: number, secretKey: Uint8Array): ChainClients {
  return clientsFor(rpcUrl, chainId, `0x${Buffer.from(secretKey).toString('hex')}` as Hex)
}
