// node:fs, node:os and node:path in the browser: only the client's file store uses them, and
// the app keeps its state in localStorage instead (src/store.ts). Calling any of these is a bug.
const unavailable = (name: string) => () => {
  throw new Error(`${name} is not available in the browser`)
}
export const mkdirSync = unavailable('mkdirSync')
export const readFileSync = unavailable('readFileSync')
export const renameSync = unavailable('renameSync')
export const writeFileSync = unavailable('writeFileSync')
export const homedir = unavailable('homedir')
export const dirname = unavailable('dirname')
export const join = unavailable('join')
export const existsSync = unavailable('existsSync')
