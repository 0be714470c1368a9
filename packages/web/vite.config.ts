// Builds the web app into dist/, which every node serves at /app (packages/node/src/http/web-app.ts).
// @hansa/client is written for Node and the browser alike, with the environment passed in; the
// few Node modules it imports for its Node defaults (ws, node:crypto, the file store, the
// Discovery v5 crawl over UDP) are replaced here by small browser stand-ins, and the app passes
// the browser's own WebSocket, fetch and crypto to the client.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

const shim = (name: string) => fileURLToPath(new URL(`./src/shims/${name}`, import.meta.url))

export default defineConfig({
  base: '/app/',
  resolve: {
    alias: [
      { find: /^ws$/, replacement: shim('ws.ts') },
      { find: /^node:crypto$/, replacement: shim('node-crypto.ts') },
      { find: /^node:(fs|os|path)$/, replacement: shim('node-fs.ts') },
      { find: /^.*\/discv5-lookup\.js$/, replacement: shim('discv5-lookup.ts') },
    ],
  },
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500, sourcemap: false },
})
