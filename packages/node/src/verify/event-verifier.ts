// What the relay and the HTTP routes need from the verify stage: check an event's id and
// signature. The VerifyPool (worker threads, the fastest backend that loads) implements it;
// another verifier (a remote one, a test double of a real backend) drops in through startNode.
import type { CheckResult, EventCheck } from './check.js'

export type { CheckResult, EventCheck } from './check.js'

export interface Verifier {
  /** Which backend checks signatures (NIP-11 and the start-up log show it). */
  readonly backend: string
  /** Whether the id is the sha256 of the preimage and the BIP-340 signature is valid. */
  check(e: EventCheck): Promise<CheckResult>
  /** Stops its threads; checks still queued are refused. */
  close(): Promise<void>
}
