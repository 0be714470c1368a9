// `hansa config docs`: the configuration reference, generated from the option table.
import { configurationMarkdown } from '@hansa/node'

export default async function run(): Promise<void> {
  process.stdout.write(`${configurationMarkdown()}\n`)
}
