// registerRobot: makes the user's key known to a coordinator (RoboSats's robot generation).
// Any action registers it on first use too; this is for showing "new here" or the history a
// coordinator keeps of the key. With per-coordinator keys each coordinator sees another key.
import type { OrderBookClient } from './joint-book.js'
import { bookUrlsOf, findCoordinator, postOrderAction, signerAt } from './orders-api.js'

export type RegisterRobotParameters = { coordinator: string }
export type RegisterRobotReturnType = {
  /** true when this call registered the key. */
  created: boolean
  robot: {
    pubkey: string
    firstSeen: number
    lastSeen: number
    ordersMade: number
    ordersTaken: number
  }
}

export async function registerRobot(
  client: OrderBookClient,
  parameters: RegisterRobotParameters,
): Promise<RegisterRobotReturnType> {
  const coordinator = await findCoordinator(client, parameters.coordinator)
  return postOrderAction<RegisterRobotReturnType>(
    client,
    bookUrlsOf(coordinator),
    '/orderbook/robot',
    signerAt(client, coordinator),
  )
}
