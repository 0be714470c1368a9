// Tests run against the built packages (dist/), as a user of each package would:
// `npm test` builds first. Worker threads and spawned CLI processes need the built files anyway.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // One throw-away PostgreSQL server for the PostgreSQL tests (skipped, with one line, without it).
    globalSetup: ['packages/node/test/pg-global-setup.ts'],
    pool: 'forks',
    // Test files share their worker's module cache instead of importing every package again:
    // collecting the 103 files took 131 s of a 755 s run on a 2-core machine, 16 s without
    // isolation (614 s in all). No test mocks modules or changes globals, so none can leak.
    isolate: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
})
