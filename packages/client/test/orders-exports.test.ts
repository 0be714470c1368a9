// The joint order book's public API, pinned (STYLE.md): a name that disappears from the package
// is a breaking change someone has to mean.
import { describe, expect, it } from 'vitest'
import * as client from '@hansa/client'

const ORDERS_API = [
  // the book and its actions, one per file
  'createOrderBook',
  'createOrderBookClient',
  'listOrders',
  'watchOrders',
  'makeOrder',
  'takeOrder',
  'cancelOrder',
  'completeOrder',
  'confirmOrder',
  'registerRobot',
  // whom it trusts
  'coordinatorsFromManifest',
  'fixedCoordinators',
  'trustedCoordinatorsOf',
  'customRelaysOf',
  // who the user is to each coordinator
  'deriveCoordinatorKey',
  'keyFor',
  'pubkeyFor',
  'COORDINATOR_KEY_SALT',
  // pieces
  'BookState',
  'DEFAULT_BOOK_TIMEOUT_MS',
  'OrderBookError',
]

describe('@hansa/client: the joint order book API', () => {
  it('exports every name of the order-book API', () => {
    expect(ORDERS_API.filter((name) => !(name in client))).toEqual([])
  })

  it('pins the key derivation and the defaults', () => {
    expect(client.COORDINATOR_KEY_SALT).toBe('hansa/orderbook/coordinator-key/v1')
    expect(client.DEFAULT_BOOK_TIMEOUT_MS).toBe(800)
  })
})
