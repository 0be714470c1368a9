// The messages between the relay engine's stages (docs/architecture.md), as discriminated
// unions: what admission makes of a frame, and what ingest, query and AUTH decide. Each
// stage returns one of these; the assembler (relay.ts) turns it into what the client is sent
// and into the next stage's input — a stored event goes on to fan-out, what was served to the
// services' onServed hooks.
import type { ClientMessage, NostrEvent } from '@hansa/protocol'
import type { Served } from '../services/service.js'
import type { Refusal } from './refusal.js'

export type { ClientMessage }

/** What admission makes of one frame. */
export type FrameVerdict =
  /** A NIP-77 frame (`["NEG-…`), for the negentropy server, unparsed. */
  | { type: 'negentropy' }
  /** The frame goes no further: too large, past the event rate, or malformed. */
  | { type: 'refused'; answer: FrameAnswer }
  /** One parsed client message, for the stage its verb names. */
  | { type: 'message'; message: ClientMessage }

/** How admission answers a frame it refuses. */
export type FrameAnswer =
  /** OK false for an event whose id could be read; counted as a refused event. */
  | { type: 'OK'; id: string; refusal: Refusal }
  /** A NOTICE; `refusal` when it stands for a refused event (counted as one). */
  | { type: 'NOTICE'; rule: string; text: string; refusal?: Refusal }
  /** CLOSED, for a malformed REQ or COUNT whose subscription id could be read. */
  | { type: 'CLOSED'; subId: string; text: string }

/** A REQ or COUNT, as admission hands it to the query stage. */
export type QueryRequest = Extract<ClientMessage, { type: 'REQ' | 'COUNT' }>

/** What the ingest stage decided about an EVENT. */
export type IngestOutcome =
  /** Committed (or ephemeral): OK true, then fan-out and onServed. */
  | { type: 'stored'; event: NostrEvent; raw: string }
  /** Already there, or a newer version is: OK true with a `duplicate:` message; no fan-out. */
  | { type: 'duplicate'; id: string; message: string }
  /** OK false with the reason. */
  | { type: 'refused'; id: string; refusal: Refusal }
  /** Not an event, and no id to answer OK to: a NOTICE. */
  | { type: 'malformed'; refusal: Refusal }

/** A stored event on its way to the open subscriptions (fan-out's input). */
export type LiveEvent = { event: NostrEvent; raw: string }

/** What the query stage did with a REQ or COUNT. */
export type QueryOutcome =
  /** Refused before or while reading: CLOSED with the reason. */
  | { type: 'refused'; refusal: Refusal }
  /** COUNT answered, or the stored events and EOSE sent: onServed learns what. */
  | { type: 'served'; served: Served }
  /** The subscription ended meanwhile (closed, replaced, the client gone): nothing to add. */
  | { type: 'ended' }

/** What the AUTH stage (NIP-42) decided. */
export type AuthOutcome =
  /** Not an event: a NOTICE. */
  | { type: 'malformed'; text: string }
  /** OK false with the reason. */
  | { type: 'refused'; id: string; text: string }
  /** The connection now speaks for `pubkey`: OK true, then the onAuth hooks. */
  | { type: 'authenticated'; id: string; pubkey: string }
