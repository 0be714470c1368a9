// `hansa node start`: runs one node until SIGINT/SIGTERM, then shuts down gracefully
// (stop accepting, finish in-flight writes, close). A second signal exits at once.
// SIGHUP reloads the configuration.
import { type HansaNode, startNode } from '@hansa/node'
import pino from 'pino'
import { setHeapGrowth } from './heap-growth.js'
import { type NodeFlags, nodeConfigFromFlags } from './node-config.js'

export default async function nodeStart(opts: NodeFlags): Promise<void> {
  const config = nodeConfigFromFlags(opts)
  // Before any worker thread exists, so every heap of the process grows alike.
  setHeapGrowth()
  const log = process.stdout.isTTY
    ? pino({
        level: config.logLevel,
        transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss' } },
      })
    : pino({ level: config.logLevel })

  // Signals are handled from the first moment: one that arrives while the node is still
  // starting stops it as soon as it has started.
  let node: HansaNode | undefined
  let stopRequested: string | undefined
  const stop = (signal: string) => {
    if (stopRequested) {
      process.stderr.write('hansa: second signal, exiting now\n')
      process.exit(1)
    }
    stopRequested = signal
    if (!node) return
    log.info({ signal }, 'shutting down')
    node.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
  // SIGHUP re-reads the config file and environment; options marked "restart: no" take
  // effect at once. A bad file is reported and the running configuration is kept.
  process.on('SIGHUP', () => {
    if (!node) return
    try {
      const result = node.reload(nodeConfigFromFlags(opts))
      log.info(result, 'configuration reloaded')
      if (result.needRestart.length > 0) {
        log.warn({ options: result.needRestart }, 'these changes take effect after a restart')
      }
    } catch (err) {
      log.error(
        { err: (err as Error).message },
        'reload refused; keeping the running configuration',
      )
    }
  })

  node = await startNode(config, { log })
  const token = node.setupToken()
  process.stdout.write(
    `Hansa node running at ${node.url}\n` +
      `  pubkey   ${node.key.pubkey}\n` +
      `  data     ${node.config.dataDir}\n` +
      `  events   ${eventStoreText(node.config)}\n` +
      `  verifier ${node.verifierBackend}\n` +
      `  info     ${node.httpUrl}/ (NIP-11)  metrics ${node.httpUrl}/metrics\n` +
      (token === null
        ? ''
        : `  setup    ${token}\n` +
          `           (one-time token: lets the setup ceremony found a federation on this node;\n` +
          `            hansa federation draft --setup-token ${node.url}=TOKEN)\n`) +
      'Press Ctrl-C to stop.\n',
  )
  if (stopRequested) {
    const signal = stopRequested
    stopRequested = undefined
    stop(signal)
  }
}

/** Where the events are, without the password a storage.url may hold. */
function eventStoreText(config: HansaNode['config']): string {
  if (config.storage.backend !== 'postgres') return 'SQLite (events.sqlite in the data folder)'
  try {
    const url = new URL(config.storage.url)
    return `PostgreSQL ${url.hostname}:${url.port || 5432}${url.pathname}`
  } catch {
    return 'PostgreSQL'
  }
}
