// The web app's size as a browser downloads it: every file of dist/ (npm run build first),
// raw and gzipped (level 9, as a server or CDN would compress it), as JSON.
//   node packages/web/scripts/bundle-size.mjs
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'

const dist = fileURLToPath(new URL('../dist/', import.meta.url))
const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })
const files = walk(dist).map((path) => {
  const body = readFileSync(path)
  return {
    file: relative(dist, path),
    bytes: body.length,
    gzip: gzipSync(body, { level: 9 }).length,
  }
})
const sum = (k) => files.reduce((a, f) => a + f[k], 0)
// Loaded at first render: index.html, its CSS and the entry chunk with what it imports statically.
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const entry = files.filter((f) => f.file === 'index.html' || html.includes(f.file))
console.log(
  JSON.stringify(
    {
      files,
      total: { bytes: sum('bytes'), gzip: sum('gzip') },
      firstLoad: {
        files: entry.map((f) => f.file),
        bytes: entry.reduce((a, f) => a + f.bytes, 0),
        gzip: entry.reduce((a, f) => a + f.gzip, 0),
      },
    },
    null,
    2,
  ),
)
