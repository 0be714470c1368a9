// The evm rail's view of the chain: viem clients for the node key, the contracts' addresses,
// and one rule for failures — an RPC that does not answer becomes HANSA_CHAIN_UNAVAILABLE
// (503, "nothing was credited, try again"), never a credit and never a crash.
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { Address } from 'viem'
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

/** EIP-55 checksummed form of an address (0x and 40 hex digits), without loading viem. */
export function getAddress(address: string): Address {
  const lower = address.slice(2).toLowerCase()
  const hash = bytesToHex(keccak_256(new TextEncoder().encode(lower)))
  let out = '0x'
  for (let i = 0; i < 40; i++) {
    out += Number.parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!
  }
  return out as Address
}

/** Whether an error means the RPC did not answer (as opposed to the chain answering "no"). */
export function isUnreachable(error: unknown): boolean {
  const walk = (error as { walk?: (fn: (e: unknown) => boolean) => unknown } | null)?.walk
  if (typeof walk !== 'function') return false // not a viem error
  const names = new Set<string>()
  walk.call(error, (e) => {
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
