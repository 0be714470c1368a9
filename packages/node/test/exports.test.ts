// The exact set of @hansa/node's runtime exports: a name added or removed is a change to the
// package's API, made on purpose (update this list in the same commit), never by accident.
// Types are not runtime values; the compiler pins those for every package that imports them.
import * as pkg from '@hansa/node'
import { describe, expect, it } from 'vitest'

const EXPORTS = [
  'Billing',
  'BillingRequestError',
  'ConfigError',
  'Federation',
  'FederationRequestError',
  'GIFT_WRAP_KIND',
  'HOOK_NAMES',
  'INBOX_RELAYS_KIND',
  'LedgerRail',
  'MAX_PENDING_PROPOSALS',
  'ManifestSync',
  'ManualClock',
  'NodeConfigSchema',
  'NodeDiscovery',
  'OPTIONS',
  'OrderBook',
  'OrderDb',
  'Relay',
  'SOFTWARE_VERSION',
  'ServiceDependencyError',
  'SqliteStore',
  'WorkerPool',
  'applyReload',
  'builtInServices',
  'clockFrom',
  'configSchema',
  'configurationMarkdown',
  'createKeyFile',
  'createNodeParts',
  'defineService',
  'envName',
  'httpStatusOf',
  'inboxService',
  'lit',
  'loadOrCreateKeyFile',
  'option',
  'optionSpecs',
  'orderbookService',
  'readConfigFile',
  'readKeyFile',
  'readPeer',
  'refusalText',
  'refuse',
  'resolveConfig',
  'serveRequests',
  'serviceOptions',
  'startNode',
  'systemClock',
  'tradingTermsFromConfig',
]

describe('@hansa/node exports', () => {
  it('are exactly the pinned names', () => {
    expect(Object.keys(pkg).sort()).toEqual(EXPORTS)
  })
})
