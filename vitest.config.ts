// Tests run against the built packages (dist/), as a user of each package would:
// `npm test` builds first. Worker threads and spawned CLI processes need the built files anyway.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // One throw-away PostgreSQL server for the PostgreSQL tests (skipped, with one line, without it).
    globalSetup: ['packages/node/test/pg-global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
})
