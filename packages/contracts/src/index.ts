// @hansa/contracts: the compiled contracts (ABIs and bytecode for viem), deployment helpers,
// the registry's typed data, and a local anvil chain.
export * from './artifacts.js'
export * from './anvil.js'
export * from './deploy.js'
export * from './registry.js'
