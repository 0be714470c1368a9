// Shared by the browser tests: Debian's Chromium through playwright-core, headless, with the
// flags that keep it off the network (on a closed network its background services would
// otherwise hold connections open), and where the screenshots go.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium } from 'playwright-core'

export const CHROMIUM = process.env.HANSA_CHROMIUM ?? '/usr/bin/chromium'
export const CLI = fileURLToPath(new URL('../../cli/dist/main.js', import.meta.url))
export const SHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
const BUILT = existsSync(fileURLToPath(new URL('../dist/index.html', import.meta.url)))

/** Skip where there is no browser or no built app — except on CI, where .ci/run installs Chromium. */
export const browserMissing = (!existsSync(CHROMIUM) && !process.env.CI) || !BUILT

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

export const httpOf = (ws: string) => ws.replace(/^ws/, 'http')
