// HansaClient's public API, pinned: a name that disappears from the package is a breaking
// change someone has to mean (STYLE.md: viem's src/index.test.ts). Other parts of the package
// (federation, billing, orders) pin their own.
import { describe, expect, it } from 'vitest'
import * as client from '@hansa/client'

const HANSA_CLIENT_API = [
  // the client and its store
  'createHansaClient',
  'requireKey',
  'EMPTY_CLIENT_STATE',
  'memoryClientStore',
  'fileClientStore',
  'defaultClientConfigPath',
  'headStorageOf',
  'payerStorageOf',
  // one action per file
  'join',
  'refresh',
  'discover',
  'candidateOfEnr',
  'verifyNode',
  'listNodes',
  'choose',
  'subscribe',
  'updateTrust',
  'publishInboxRelays',
  'sendToInbox',
  'readInbox',
  'watchInbox',
  // pure pieces
  'judge',
  'precheck',
  'manifestEntryOf',
  'mergeCandidates',
  'POLICIES',
  'DEFAULT_USAGE',
  'isEligible',
  'monthlyCost',
  'devfundChance',
  'rankNodes',
  'DEFAULT_TRUST_LIST',
  'coordinatorEnabled',
  'setCoordinator',
  'resetCoordinator',
  'setDefaultCoordinator',
  'addCustomNode',
  'removeCustomNode',
  'setPreferCustom',
  'parseTrustList',
  'parsePubkey',
  // network helpers
  'getDiscovery',
  'proveNodeKey',
  'lookupEnrs',
  // errors
  'CLIENT_ERROR_CODES',
  'NotJoinedError',
  'JoinFailedError',
  'NoNodeError',
  'AllNodesFailedError',
  'NoKeyError',
  'NoInboxRelaysError',
  'ClientStoreError',
  'TrustListError',
]

describe('@hansa/client: the HansaClient API', () => {
  it('exports every name of the HansaClient API', () => {
    const missing = HANSA_CLIENT_API.filter((name) => !(name in client))
    expect(missing).toEqual([])
  })

  it('binds every action to the client', () => {
    const c = client.createHansaClient()
    expect(Object.keys(c).sort()).toEqual(
      [
        'chequebook',
        'choose',
        'close',
        'discover',
        'env',
        'inbox',
        'join',
        'listNodes',
        'orders',
        'pubkey',
        'refresh',
        'runtime',
        'store',
        'subscribe',
        'trustList',
        'updateTrust',
        'verifyNode',
      ].sort(),
    )
    expect(Object.keys(c.inbox).sort()).toEqual(['publishRelays', 'read', 'send', 'watch'])
    expect(Object.keys(c.chequebook).sort()).toEqual(['deploy', 'deposit', 'remembered', 'status'])
    // The joint order book (orders-exports.test.ts pins its own names).
    expect(Object.keys(c.orders).sort()).toEqual(
      [
        'cancel',
        'client',
        'complete',
        'confirm',
        'list',
        'make',
        'registerRobot',
        'take',
        'watch',
      ].sort(),
    )
  })

  it('pins the error codes and their messages', () => {
    expect(client.CLIENT_ERROR_CODES).toEqual([
      'HANSA_NOT_JOINED',
      'HANSA_JOIN_FAILED',
      'HANSA_NO_NODE',
      'HANSA_ALL_NODES_FAILED',
      'HANSA_NO_KEY',
      'HANSA_SIGNER_REFUSED',
      'HANSA_SIGNER_UNSUPPORTED',
      'HANSA_SIGNER_NEEDS_SECRET',
      'HANSA_EVM_NO_WALLET',
      'HANSA_EVM_WRONG_CHAIN',
      'HANSA_EVM_FUNDS',
      'HANSA_EVM_REJECTED',
      'HANSA_INBOX_NO_RELAYS',
      'HANSA_CLIENT_STORE',
      'HANSA_CHEQUEBOOK_MISSING',
    ])
    expect(new client.NotJoinedError().message).toBe(
      'this client has joined no federation yet\n\nDetails: Join one with an invite code first (hansa join hansa1…).',
    )
    expect(
      new client.NoNodeError('inbox', { verified: 0, disabled: 2, rejected: 1 }).shortMessage,
    ).toBe('no trusted node offers inbox')
    expect(
      new client.AllNodesFailedError('reading the inbox', [{ url: 'ws://a', error: 'down' }])
        .message,
    ).toBe('reading the inbox: every node tried failed\n\nDetails: ws://a: down')
    expect(new client.ChequebookMissingError('ws://n', 31337, '0xF', '0xA').shortMessage).toBe(
      'ws://n takes cheques only from a chequebook on chain 31337 (hard mode), and this client knows none of 0xA: deploy one from an Ethereum wallet (the web app’s Subscribe… dialog on that node), or run hansa chequebook deploy --node ws://n --amount <base units> --rpc-url <chain>',
    )
  })

  it('remembers chequebooks per chain, factory and issuer; the newest is used', () => {
    const store = client.memoryClientStore()
    const where = { chainId: 31337, factory: `0x${'f'.repeat(40)}`, issuer: `0x${'a'.repeat(40)}` }
    expect(client.chequebookFor(store, where)).toBeNull()
    const record = (chequebook: string, more = {}) => ({
      ...where,
      chequebook,
      deployedAt: 1,
      ...more,
    })
    client.rememberChequebook(store, record(`0x${'1'.repeat(40)}`))
    client.rememberChequebook(store, record(`0x${'2'.repeat(40)}`, { chainId: 1 }))
    client.rememberChequebook(
      store,
      record(`0x${'3'.repeat(40)}`, { issuer: `0x${'b'.repeat(40)}` }),
    )
    expect(
      client.chequebookFor(store, {
        ...where,
        issuer: where.issuer.toUpperCase().replace('0X', '0x'),
      }),
    ).toBe(`0x${'1'.repeat(40)}`)
    client.rememberChequebook(store, record(`0x${'4'.repeat(40)}`))
    expect(client.chequebookFor(store, where)).toBe(`0x${'4'.repeat(40)}`)
    expect(client.chequebookFor(store, { ...where, chainId: 1 })).toBe(`0x${'2'.repeat(40)}`)
  })

  it('refuses to act as the user without her key, and to list nodes before joining', async () => {
    const c = client.createHansaClient()
    await expect(c.subscribe()).rejects.toMatchObject({ code: 'HANSA_NO_KEY' })
    await expect(c.listNodes()).rejects.toMatchObject({ code: 'HANSA_NOT_JOINED' })
  })
})
