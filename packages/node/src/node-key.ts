// The node's key: created at first start in the data folder (mode 0600, never logged),
// read on every later start. The same secret signs Nostr events and terms, and is the
// node's Ethereum address.
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import {
  HansaError,
  bytesToHex,
  ethereumAddress,
  generateSecretKey,
  nostrPublicKey,
  secretKeyFromHex,
} from '@hansa/protocol'

export type KeyPair = { secretKey: Uint8Array; pubkey: string; address: string }

export const keyPairOf = (secretKey: Uint8Array): KeyPair => ({
  secretKey,
  pubkey: nostrPublicKey(secretKey),
  address: ethereumAddress(secretKey),
})

/** Writes a new key file; refuses to overwrite one. */
export function createKeyFile(path: string): KeyPair {
  if (existsSync(path)) {
    throw new HansaError('HANSA_KEY_EXISTS', `a key file already exists at ${path}`, {
      details:
        'Hansa never overwrites a key. Move the old file away first if you mean to replace it.',
    })
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const secretKey = generateSecretKey()
  writeFileSync(path, `${bytesToHex(secretKey)}\n`, { mode: 0o600, flag: 'wx' })
  return keyPairOf(secretKey)
}

export function readKeyFile(path: string): KeyPair {
  const mode = statSync(path).mode & 0o777
  if (mode & 0o077) chmodSync(path, 0o600) // a key readable by others is tightened, not used as is
  const text = readFileSync(path, 'utf8').trim()
  try {
    return keyPairOf(secretKeyFromHex(text))
  } catch (cause) {
    throw new HansaError('HANSA_KEY_INVALID', `the key file ${path} does not hold a valid key`, {
      cause,
    })
  }
}

export function loadOrCreateKeyFile(path: string): KeyPair & { created: boolean } {
  if (existsSync(path)) return { ...readKeyFile(path), created: false }
  return { ...createKeyFile(path), created: true }
}
