// Runs a command module and prints its failure the way a person can act on: an expected
// failure (a HansaError) says what is wrong and how to fix it; anything else is a bug and
// says how to report it.
import { HansaError } from '@hansa/protocol'

type CommandModule<T> = { default: (opts: T) => Promise<void> }

export async function runCommand<T>(load: () => Promise<CommandModule<T>>, opts: T): Promise<void> {
  try {
    const mod = await load()
    await mod.default(opts)
  } catch (error) {
    process.exitCode = 1
    if (error instanceof HansaError) {
      process.stderr.write(`hansa: ${error.message}\n`)
      return
    }
    const err = error as NodeJS.ErrnoException
    if (err?.code === 'EADDRINUSE') {
      process.stderr.write(
        `hansa: the port is already in use (${err.message}). Pick another with --port.\n`,
      )
      return
    }
    process.stderr.write(
      `hansa: internal error — this is a bug; please report it with the text below.\n${err?.stack ?? String(error)}\n`,
    )
  }
}
