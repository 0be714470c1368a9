// The evm rail's view of the chain: viem clients for the node key, the contracts' addresses,
// and one rule for failures — an RPC that does not answer becomes HANSA_CHAIN_UNAVAILABLE
// (503, "nothing was credited, try again"), never a credit and never a crash.
import { bytesToHex } from '@noble/hashes/utils.js'
import { type ChainClients, clientsFor } from '@hansa/contracts'
import { type Address, BaseError, type Hex, getAddress } from 'viem'
import { ConfigError } from '../../config.js'
import type { EvmConfig } from './evm-options.js'
import { evmRefusal } from './evm-errors.js'

export type EvmAddresses = {
  token: Address
  router: Address
  chequebookFactory: Address | null
  registry: Address | null
  payout: Address
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/

/** Reads and checks billing.evm.*; throws ConfigError naming the option that is wrong. */
export function evmAddresses(evm: EvmConfig, nodeAddress: string): EvmAddresses {
  if (!/^https?:\/\//.test(evm.rpcUrl)) {
    throw new ConfigError(
      'billing.rail evm needs billing.evm.rpcUrl, the http(s) JSON-RPC URL of the chain',
    )
  }
  const need = (key: 'token' | 'router') => {
    if (!ADDRESS.test(evm[key])) {
      throw new ConfigError(`billing.rail evm needs billing.evm.${key}, an Ethereum address`)
    }
    return getAddress(evm[key])
  }
  const optional = (key: 'chequebookFactory' | 'registry' | 'payout') => {
    if (evm[key] === '') return null
    if (!ADDRESS.test(evm[key])) {
      throw new ConfigError(`billing.evm.${key} must be an Ethereum address or empty`)
    }
    return getAddress(evm[key])
  }
  if (!/^[0-9]+$/.test(evm.unitsPerEth)) {
    throw new ConfigError('billing.evm.unitsPerEth must be a whole number of base units')
  }
  return {
    token: need('token'),
    router: need('router'),
    chequebookFactory: optional('chequebookFactory'),
    registry: optional('registry'),
    payout: optional('payout') ?? getAddress(nodeAddress),
  }
}

export function nodeClients(rpcUrl: string, chainId: number, secretKey: Uint8Array): ChainClients {
  return clientsFor(rpcUrl, chainId, `0x${bytesToHex(secretKey)}` as Hex)
}

/** Whether an error means the RPC did not answer (as opposed to the chain answering "no"). */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof BaseError)) return false
  const names = new Set<string>()
  error.walk((e) => {
    names.add((e as Error).name)
    return false
  })
  return names.has('HttpRequestError') || names.has('TimeoutError')
}

/** Runs a chain call; an unreachable RPC becomes HANSA_CHAIN_UNAVAILABLE. */
export async function onChain<T>(rpcUrl: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    if (isUnreachable(error)) {
      throw evmRefusal(
        'HANSA_CHAIN_UNAVAILABLE',
        `the chain's RPC (${rpcUrl}) did not answer, so nothing could be checked and nothing was credited; send it again later`,
      )
    }
    throw error
  }
}
