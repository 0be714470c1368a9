// Resolves a node's configuration from CLI flags, HANSA_* environment and a config file.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type NodeConfig, readConfigFile, resolveConfig } from '@hansa/node'

export type NodeFlags = {
  dataDir?: string
  port?: string
  host?: string
  publicUrl?: string
  config?: string
  logLevel?: string
  inboxAccess?: string
}

export function nodeConfigFromFlags(opts: NodeFlags): NodeConfig {
  const flags: Record<string, unknown> = {}
  if (opts.dataDir !== undefined) flags.dataDir = opts.dataDir
  if (opts.port !== undefined) flags.port = opts.port
  if (opts.host !== undefined) flags.host = opts.host
  if (opts.publicUrl !== undefined) flags.publicUrl = opts.publicUrl
  if (opts.logLevel !== undefined) flags.logLevel = opts.logLevel
  if (opts.inboxAccess !== undefined) flags['inbox.access'] = opts.inboxAccess
  const env = process.env
  const dataDir = opts.dataDir ?? env.HANSA_DATA_DIR ?? './hansa-data'
  const defaultFile = join(dataDir, 'config.json')
  const filePath =
    opts.config ?? env.HANSA_CONFIG ?? (existsSync(defaultFile) ? defaultFile : undefined)
  const file = filePath ? readConfigFile(filePath) : undefined
  return resolveConfig({
    ...(file ? { file, filePath } : {}),
    env,
    flags,
  })
}
