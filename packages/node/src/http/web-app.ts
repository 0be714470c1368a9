// The web app at /app: the built files of packages/web (dist/), served as they are, so every
// node hands its users the same app with nothing fetched from elsewhere. A node whose web app
// was not built still starts; /app then says how to build it. The app running on one node
// calls the other nodes of the federation from the browser, so the JSON API answers
// cross-origin requests (CORS), preflights included: every state-changing route is guarded by
// NIP-98, never by the caller's origin or cookies, so allowing any origin gives a page nothing
// it could not do with curl.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Logger } from 'pino'
import { SETUP_TOKEN_HEADER } from '../federation/setup-token.js'

/** packages/web/dist, next to this package in the repository (or a path the caller gives). */
export const DEFAULT_WEB_APP_DIR = fileURLToPath(new URL('../../../web/dist', import.meta.url))

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

/** Files are read once and kept: the app is a few hundred kilobytes and never changes while the node runs. */
type Cached = { body: Buffer; type: string }

export function webAppRoutes(
  app: FastifyInstance,
  options: { dir?: string; log: Logger },
): Promise<void> {
  const dir = resolve(options.dir ?? DEFAULT_WEB_APP_DIR)
  const built = existsSync(join(dir, 'index.html'))
  if (!built) {
    options.log.warn(
      { dir },
      'the web app is not built, so /app shows how to build it (npm run build in the repository)',
    )
  }
  const cache = new Map<string, Cached>()
  const read = (path: string): Cached | null => {
    const hit = cache.get(path)
    if (hit) return hit
    // Only files inside dir: a path with .. or an absolute path never leaves it.
    const file = normalize(join(dir, path))
    if (!file.startsWith(dir + sep)) return null
    try {
      if (!statSync(file).isFile()) return null
    } catch {
      return null
    }
    const entry = {
      body: readFileSync(file),
      type: TYPES[extname(file)] ?? 'application/octet-stream',
    }
    if (cache.size < 256) cache.set(path, entry)
    return entry
  }

  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('access-control-allow-origin')) {
      reply.header('access-control-allow-origin', '*')
    }
    return payload
  })
  app.options('/*', { schema: { hide: true } }, async (_request, reply) => {
    reply
      .header('access-control-allow-methods', 'GET, POST, DELETE, OPTIONS')
      // The setup token travels in its own header when the ceremony posts a genesis draft to
      // another guardian's standalone node (federation/setup-token.ts).
      .header(
        'access-control-allow-headers',
        `authorization, content-type, accept, ${SETUP_TOKEN_HEADER}`,
      )
      .header('access-control-max-age', '600')
      .code(204)
      .send()
  })

  const serve = async (path: string, reply: FastifyReply) => {
    if (!built) {
      reply.code(503).type('text/plain; charset=utf-8')
      return `The Hansa web app is not built on this node (no ${join(dir, 'index.html')}).\nRun \`npm run build\` in the Hansa repository, then restart the node.\n`
    }
    // Unknown paths get the app itself: it routes on the URL's #hash.
    const file = read(path === '' ? 'index.html' : path) ?? read('index.html')!
    reply.type(file.type)
    if (path.startsWith('assets/')) reply.header('cache-control', 'public, max-age=31536000')
    return reply.send(file.body)
  }
  app.get('/app', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/app/'))
  app.get<{ Params: { '*': string } }>(
    '/app/*',
    { schema: { hide: true } },
    async (request, reply) => serve(request.params['*'] ?? '', reply),
  )
  return Promise.resolve()
}
