// bench-args: how a benchmark reads its command line. `--help` prints the script's own header
// comment (what it measures and how to run it) and its options with their defaults, or the
// script's own text where it has one; an unknown or malformed option is one line on stderr
// and exit code 2, not a stack trace.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type ParseArgsConfig, parseArgs } from 'node:util'

type Options = NonNullable<ParseArgsConfig['options']>

/** The options' values, as `parseArgs` types them. */
export type BenchValues<O extends Options> = ReturnType<typeof parseArgs<{ options: O }>>['values']

/** Parses process.argv for the script at `scriptUrl` (its `import.meta.url`). */
export function benchArgs<const O extends Options>(
  scriptUrl: string,
  options: O,
  help?: string,
): BenchValues<O> {
  const file = fileURLToPath(scriptUrl)
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } })
  } catch (error) {
    process.stderr.write(
      `${basename(file, '.js')}: ${(error as Error).message} (--help lists the options)\n`,
    )
    process.exit(2)
  }
  if (parsed.values.help) {
    process.stdout.write(help ?? usage(file, options))
    process.exit(0)
  }
  return parsed.values as BenchValues<O>
}

function usage(file: string, options: Options): string {
  const header: string[] = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('//')) break
    header.push(line.replace(/^\/\/ ?/, ''))
  }
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `--${name}${o.short ? `, -${o.short}` : ''}${o.type === 'string' ? ' VALUE' : ''}`
    return `  ${flag.padEnd(28)}${o.default === undefined ? '' : `default ${String(o.default)}`}`.trimEnd()
  })
  return `${header.join('\n')}\n\noptions:\n${rows.join('\n')}\n  ${'--help, -h'.padEnd(28)}this text\n`
}
