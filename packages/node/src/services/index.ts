// The one list of the node's services: the only place that names them. The node, the relay,
// the HTTP server, billing and NIP-11 read everything they need from the Service objects
// (services/service.ts); a new service is a folder under services/ and one line here.
import { inboxService } from './inbox/index.js'
import { inboxOptions } from './inbox/options.js'
import { orderbookService } from './orderbook/index.js'
import { orderbookOptions } from './orderbook/options.js'
import type { Service } from './service.js'

export const builtInServices: readonly Service[] = [inboxService, orderbookService]

/**
 * The built-in services' options by name, as the configuration schema merges them (kept apart
 * from the Service objects so that `NodeConfig`'s type never depends on a service's code).
 */
export const builtInServiceOptions = {
  inbox: inboxOptions,
  orderbook: orderbookOptions,
}
