// Kinds that are private by their own NIP, whatever services a node runs: a NIP-59 gift wrap
// (kind 1059) is readable only by the pubkey its `p` tag names, authenticated with NIP-42.
// Services add their own private kinds on top (Service.privateKinds); these stay private even on
// a node that turned its inbox off, since a node that stores mail must never hand it to anyone
// (test/attack-gift-wrap-privacy.test.ts).
export const GIFT_WRAP_KIND = 1059

export const ALWAYS_PRIVATE_KINDS: readonly number[] = [GIFT_WRAP_KIND]
