// `hansa errors docs`: the table of error codes (docs/errors.md), generated from the catalogue.
import { errorsMarkdown } from '@hansa/protocol'

export default async function run(): Promise<void> {
  process.stdout.write(`${errorsMarkdown()}\n`)
}
