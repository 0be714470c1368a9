// Builds the optional native BIP-340 verifier (secp256k1_verify.node) with the node-gyp that
// ships with npm. Run by @hansa/node's install script on `npm ci` / `npm install`, or by hand:
// `npm run build:native -w @hansa/node`.
//
// It never fails the install: without libsecp256k1-dev (Debian) or a C toolchain the build is
// skipped with one line of explanation, and the node falls back to the WASM verifier at start-up
// (src/verify/verifier.ts). HANSA_NATIVE=0 skips the build; HANSA_NATIVE=require makes a failed
// build an error (for CI machines that must have the fast path).
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const mode = process.env.HANSA_NATIVE ?? 'auto'
const say = (line) => process.stderr.write(`@hansa/node: ${line}\n`)

if (mode === '0' || mode === 'off') {
  say('HANSA_NATIVE=0: native Schnorr verifier not built; the WASM verifier will be used')
  process.exit(0)
}

// npm sets npm_config_node_gyp to its bundled node-gyp for lifecycle scripts; by hand, look
// for the copy inside npm's own install, then for one on the PATH.
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm]
  const bundled = join(
    dirname(process.execPath),
    '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  )
  if (existsSync(bundled)) return [process.execPath, bundled]
  return ['node-gyp']
}

// Node's headers: node-gyp would download them, and this machine may have no internet. The
// running node's own install prefix has them (Debian's nodejs, official tarballs); npm passes
// the project's `nodedir` setting as npm_config_nodedir when it runs this script.
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return []
  const prefix = join(dirname(process.execPath), '..')
  return existsSync(join(prefix, 'include/node/node_api.h')) ? [`--nodedir=${prefix}`] : []
}

const [command, ...prefix] = nodeGyp()
const result = spawnSync(command, [...prefix, 'rebuild', ...nodedirArgs()], {
  cwd: here,
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'pipe'],
})
if (result.status === 0) {
  say('native Schnorr verifier built (native/build/Release/secp256k1_verify.node)')
  process.exit(0)
}

const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`
const missingLib = /secp256k1[_a-z]*\.h|lsecp256k1/.test(output)
const reason = missingLib
  ? 'libsecp256k1 headers or library not found (apt-get install libsecp256k1-dev)'
  : 'node-gyp failed'
if (mode === 'require') {
  process.stderr.write(output)
  say(`native Schnorr verifier build FAILED: ${reason}`)
  process.exit(1)
}
say(`native Schnorr verifier not built: ${reason}; the WASM verifier will be used.`)
if (!missingLib) {
  // An unexpected failure: show the tail so it can be reported.
  process.stderr.write(`${output.split('\n').slice(-15).join('\n')}\n`)
}
process.exit(0)
