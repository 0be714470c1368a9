// The user's signer: a local key and a NIP-07 extension seal and open the same NIP-17 mail,
// interchangeably with nostr-tools' own NIP-59; an extension that answers with someone else's
// event is refused; acts that need the key itself say so for NIP-07; paying on chain without a
// wallet says so.
import {
  type EvmPay,
  type Nip07Provider,
  eip1193Payer,
  localSigner,
  nip07Signer,
  requireSecret,
  unwrapMessage,
  wrapMessage,
} from '@hansa/client'
import fc from 'fast-check'
import * as nip44 from 'nostr-tools/nip44'
import { unwrapEvent, wrapEvent } from 'nostr-tools/nip17'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'

/** What a NIP-07 extension does, over a key it keeps; counts the calls. */
function extension(secret: Uint8Array) {
  const calls = { signEvent: 0, encrypt: 0, decrypt: 0 }
  const provider: Nip07Provider = {
    getPublicKey: async () => getPublicKey(secret),
    signEvent: async (t) => {
      calls.signEvent++
      return finalizeEvent(t, secret)
    },
    nip44: {
      encrypt: async (peer, text) => {
        calls.encrypt++
        return nip44.encrypt(text, nip44.getConversationKey(secret, peer))
      },
      decrypt: async (peer, text) => {
        calls.decrypt++
        return nip44.decrypt(text, nip44.getConversationKey(secret, peer))
      },
    },
  }
  return { provider, calls }
}

describe('signers', () => {
  it('seal and open mail alike, and interoperate with nostr-tools', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 200 }), async (text) => {
        const alice = generateSecretKey()
        const bob = generateSecretKey()
        const ext = extension(alice)
        const viaExtension = await nip07Signer(ext.provider)
        const wrap = await wrapMessage(viaExtension, getPublicKey(bob), text, 'hi')
        expect(ext.calls).toMatchObject({ signEvent: 1, encrypt: 1 })
        const opened = unwrapEvent(wrap as never, bob)
        expect(opened).toMatchObject({ pubkey: getPublicKey(alice), content: text })
        const back = wrapEvent(bob, { publicKey: getPublicKey(alice) }, text)
        const rumor = await unwrapMessage(viaExtension, back as never)
        expect(ext.calls.decrypt).toBe(2)
        expect(rumor).toMatchObject({ pubkey: getPublicKey(bob), content: text })
        const local = await unwrapMessage(localSigner(alice), back as never)
        expect(local.id).toBe(rumor.id)
      }),
      { numRuns: 10 },
    )
  })

  it('refuses an extension answering with an event that is not the key’s, or not the one asked', async () => {
    const ext = extension(generateSecretKey())
    const other = generateSecretKey()
    const signer = await nip07Signer({
      ...ext.provider,
      signEvent: async (t) => finalizeEvent(t, other),
    })
    await expect(
      signer.signEvent({ kind: 1, created_at: 1, tags: [], content: '' }),
    ).rejects.toMatchObject({ code: 'HANSA_SIGNER_REFUSED' })
    const altered = await nip07Signer({
      ...ext.provider,
      signEvent: async (t) => ext.provider.signEvent({ ...t, content: 'something else' }),
    })
    await expect(
      altered.signEvent({ kind: 1, created_at: 1, tags: [], content: '' }),
    ).rejects.toMatchObject({ code: 'HANSA_SIGNER_REFUSED' })
    const noNip44 = await nip07Signer({ ...ext.provider, nip44: undefined } as Nip07Provider)
    await expect(noNip44.encrypt(getPublicKey(other), 'x')).rejects.toMatchObject({
      code: 'HANSA_SIGNER_UNSUPPORTED',
    })
  })

  it('hands out the secret only from a local signer', async () => {
    const key = generateSecretKey()
    expect(requireSecret(localSigner(key), 'a cheque')).toBe(key)
    const signer = await nip07Signer(extension(key).provider)
    expect(signer.pubkey).toBe(getPublicKey(key))
    expect(() => requireSecret(signer, 'paying by ledger cheque')).toThrow(
      /paying by ledger cheque needs the key itself/,
    )
  })

  it('names a missing Ethereum wallet before anything is paid', async () => {
    const pay = { rail: 'evm', chainId: 31337 } as unknown as EvmPay
    for (const provider of [null, undefined, {} as never]) {
      await expect(eip1193Payer(provider).payQuote(pay)).rejects.toMatchObject({
        code: 'HANSA_EVM_NO_WALLET',
        shortMessage: 'no Ethereum wallet in this browser (window.ethereum)',
      })
    }
  })
})
