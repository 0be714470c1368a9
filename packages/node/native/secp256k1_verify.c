/*
 * Hansa's native BIP-340 Schnorr verifier: a plain Node-API addon over the system's
 * libsecp256k1 (schnorrsig + extrakeys modules; Debian bookworm ships 0.2.0).
 *
 * Exports
 *   verify(sig: Uint8Array(64), msg: Uint8Array(any length), pubkey: Uint8Array(32)) -> boolean
 *   verifyBatch(records: Uint8Array(N*128)) -> Uint8Array(N)
 *       each record is sig(64) | msg(32) | pubkey(32); each result byte is 1 (valid) or 0.
 *   checkEvents(records: Uint8Array) -> Uint8Array(N)
 *       the whole verify stage for N Nostr events in one call: each record is
 *       id(32) | pubkey(32) | sig(64) | preimage length (u32, little-endian) | preimage (UTF-8);
 *       each result byte is 0 (valid), 1 (sha256(preimage) is not the id) or 2 (bad signature).
 *   version: string   (this addon's ABI, bumped when the exports change)
 *
 * An argument that is not a Uint8Array throws a TypeError (a caller bug); so does a batch
 * whose length is not a multiple of 128. A wrong-sized sig or key, an unparsable key or an
 * invalid signature is just `false`.
 *
 * One verify-only context is created once per process (pthread_once) and never destroyed;
 * verification only reads it, so every worker thread shares it safely. Node-API addons are
 * context-aware, so the addon loads in any number of worker_threads.
 */
#include <node_api.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <string.h>

/* SHA-256 from the OpenSSL that Node itself carries (its headers ship with Node's), so the
   addon links nothing more; the symbol resolves against the running node when it loads. */
#include <openssl/sha.h>

#include <secp256k1.h>
#include <secp256k1_extrakeys.h>
#include <secp256k1_schnorrsig.h>

#define SIG_LEN 64
#define MSG_LEN 32
#define PUB_LEN 32
#define RECORD_LEN (SIG_LEN + MSG_LEN + PUB_LEN)

static secp256k1_context *verify_ctx = NULL;
static pthread_once_t verify_ctx_once = PTHREAD_ONCE_INIT;

static void create_verify_ctx(void) {
  verify_ctx = secp256k1_context_create(SECP256K1_CONTEXT_VERIFY);
}

static int verify_one(const uint8_t *sig, const uint8_t *msg, size_t msg_len, const uint8_t *pub) {
  secp256k1_xonly_pubkey pk;
  if (!secp256k1_xonly_pubkey_parse(verify_ctx, &pk, pub)) return 0;
  return secp256k1_schnorrsig_verify(verify_ctx, sig, msg, msg_len, &pk);
}

/* Points *data at the bytes of a Uint8Array / Buffer argument (NULL when it is empty) and
   returns true, or throws a TypeError and returns false. */
static bool bytes_of(napi_env env, napi_value value, const uint8_t **data, size_t *length,
                     const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok ||
      type != napi_uint8_array) {
    napi_throw_type_error(env, "HANSA_VERIFY_INPUT", what);
    return false;
  }
  *data = (const uint8_t *)raw;
  return true;
}

static napi_value js_verify(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 3) {
    napi_throw_type_error(env, "HANSA_VERIFY_INPUT", "verify(sig, msg, pubkey) needs 3 arguments");
    return NULL;
  }
  size_t sig_len = 0, msg_len = 0, pub_len = 0;
  const uint8_t *sig = NULL, *msg = NULL, *pub = NULL;
  if (!bytes_of(env, argv[0], &sig, &sig_len, "sig must be a Uint8Array") ||
      !bytes_of(env, argv[1], &msg, &msg_len, "msg must be a Uint8Array") ||
      !bytes_of(env, argv[2], &pub, &pub_len, "pubkey must be a Uint8Array")) {
    return NULL;
  }

  int ok = 0;
  /* BIP-340 allows messages of any length (Nostr signs 32-byte ids). A wrong-sized
     signature or key is just not a valid signature. */
  if (sig_len == SIG_LEN && pub_len == PUB_LEN) {
    ok = verify_one(sig, msg, msg_len, pub);
  }
  napi_value result;
  napi_get_boolean(env, ok == 1, &result);
  return result;
}

static napi_value js_verify_batch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, "HANSA_VERIFY_INPUT", "verifyBatch(records) needs 1 argument");
    return NULL;
  }
  size_t length = 0;
  const uint8_t *records = NULL;
  if (!bytes_of(env, argv[0], &records, &length, "records must be a Uint8Array")) return NULL;
  if (length % RECORD_LEN != 0) {
    napi_throw_range_error(env, "HANSA_VERIFY_INPUT",
                           "records length must be a multiple of 128 (sig|msg|pubkey)");
    return NULL;
  }
  size_t count = length / RECORD_LEN;

  napi_value out_buffer;
  void *out_data = NULL;
  if (napi_create_arraybuffer(env, count, &out_data, &out_buffer) != napi_ok) return NULL;
  uint8_t *out = (uint8_t *)out_data;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *r = records + i * RECORD_LEN;
    out[i] = verify_one(r, r + SIG_LEN, MSG_LEN, r + SIG_LEN + MSG_LEN) == 1 ? 1 : 0;
  }
  napi_value result;
  if (napi_create_typedarray(env, napi_uint8_array, count, out_buffer, 0, &result) != napi_ok) {
    return NULL;
  }
  return result;
}

#define CHECK_HEAD (32 + 32 + 64 + 4)

static napi_value js_check_events(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1) {
    napi_throw_type_error(env, "HANSA_VERIFY_INPUT", "checkEvents(records) needs 1 argument");
    return NULL;
  }
  size_t length = 0;
  const uint8_t *records = NULL;
  if (!bytes_of(env, argv[0], &records, &length, "records must be a Uint8Array")) return NULL;
  /* First pass: count the records and check that they tile the buffer exactly. */
  size_t count = 0;
  for (size_t at = 0; at < length; count++) {
    if (length - at < CHECK_HEAD) goto malformed;
    const uint8_t *l = records + at + 128;
    size_t pre = (size_t)l[0] | (size_t)l[1] << 8 | (size_t)l[2] << 16 | (size_t)l[3] << 24;
    if (length - at - CHECK_HEAD < pre) goto malformed;
    at += CHECK_HEAD + pre;
  }
  napi_value out_buffer;
  void *out_data = NULL;
  if (napi_create_arraybuffer(env, count, &out_data, &out_buffer) != napi_ok) return NULL;
  uint8_t *out = (uint8_t *)out_data;
  size_t at = 0;
  for (size_t i = 0; i < count; i++) {
    const uint8_t *r = records + at;
    const uint8_t *l = r + 128;
    size_t pre = (size_t)l[0] | (size_t)l[1] << 8 | (size_t)l[2] << 16 | (size_t)l[3] << 24;
    uint8_t digest[SHA256_DIGEST_LENGTH];
    SHA256(r + CHECK_HEAD, pre, digest);
    if (memcmp(digest, r, 32) != 0) {
      out[i] = 1;
    } else {
      out[i] = verify_one(r + 64, r, MSG_LEN, r + 32) == 1 ? 0 : 2;
    }
    at += CHECK_HEAD + pre;
  }
  napi_value result;
  if (napi_create_typedarray(env, napi_uint8_array, count, out_buffer, 0, &result) != napi_ok) {
    return NULL;
  }
  return result;
malformed:
  napi_throw_range_error(env, "HANSA_VERIFY_INPUT",
                         "records must be id|pubkey|sig|length|preimage, back to back");
  return NULL;
}

NAPI_MODULE_INIT() {
  pthread_once(&verify_ctx_once, create_verify_ctx);
  if (verify_ctx == NULL) {
    napi_throw_error(env, "HANSA_VERIFY_NATIVE", "secp256k1_context_create failed");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"verify", NULL, js_verify, NULL, NULL, NULL, napi_enumerable, NULL},
      {"verifyBatch", NULL, js_verify_batch, NULL, NULL, NULL, napi_enumerable, NULL},
      {"checkEvents", NULL, js_check_events, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props) != napi_ok) {
    return NULL;
  }
  napi_value version;
  if (napi_create_string_utf8(env, "2", NAPI_AUTO_LENGTH, &version) == napi_ok) {
    napi_set_named_property(env, exports, "version", version);
  }
  return exports;
}
