# Hansa's native BIP-340 verifier: a plain Node-API addon over the system libsecp256k1
# (Debian: libsecp256k1-dev). Built by packages/node's install script; optional — without
# it the node falls back to the WASM or JS verifier (see src/verify/verifier.ts).
{
  "targets": [
    {
      "target_name": "secp256k1_verify",
      "sources": ["secp256k1_verify.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lsecp256k1"]
    }
  ]
}
