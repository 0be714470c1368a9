#!/usr/bin/env node
// The `hansa` command: one table of commands, each module loaded only when its command runs.
import { Command } from 'commander'
import { runCommand } from './run.js'

const program = new Command()
program
  .name('hansa')
  .description('Hansa: a federation of independently run, paid service nodes.')
  .version('0.1.0')

const node = program.command('node').description('run a Hansa node')
node
  .command('start')
  .description('start a node: Nostr relay + HTTP API on one port, data on embedded SQLite')
  .option('--data-dir <dir>', 'folder for the database and the node key (default ./hansa-data)')
  .option('--port <n>', 'TCP port (default 7447; 0 picks a free one)')
  .option('--host <address>', 'address to listen on (default 127.0.0.1)')
  .option('--public-url <url>', 'ws:// or wss:// URL clients use to reach this node')
  .option('--config <file>', 'JSON config file (default <data-dir>/config.json if it exists)')
  .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
  .action((opts) => runCommand(() => import('./commands/node-start.js'), opts))

program
  .command('keygen')
  .description('create a new secp256k1 key file (mode 0600) and print its public key')
  .option('--out <file>', 'where to write the key', 'hansa.key')
  .option('--json', 'print JSON')
  .action((opts) => runCommand(() => import('./commands/keygen.js'), opts))

const config = program.command('config').description('the node configuration')
config
  .command('docs')
  .description('print the configuration reference (Markdown)')
  .action(() => runCommand(() => import('./commands/config-docs.js'), {}))
config
  .command('show')
  .description('print the configuration a node would run with (defaults, file, env, flags)')
  .option('--data-dir <dir>', 'data folder')
  .option('--config <file>', 'JSON config file')
  .action((opts) => runCommand(() => import('./commands/config-show.js'), opts))

await program.parseAsync()
