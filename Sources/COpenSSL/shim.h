#ifndef SHOPFLOOR_COPENSSL_SHIM_H
#define SHOPFLOOR_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/param_build.h>

// Macros Swift cannot call.
static inline long shopfloor_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static inline long shopfloor_SSL_CTX_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}
static inline long shopfloor_SSL_CTX_set_options(SSL_CTX *ctx, long options) {
    return SSL_CTX_set_options(ctx, options);
}
static inline long shopfloor_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline uint64_t shopfloor_server_options(void) {
    return SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE;
}
// Key selections for EVP_PKEY_fromdata and the encoders: macros built from other macros, which Swift
// does not import.
static inline int shopfloor_EVP_PKEY_PUBLIC_KEY(void) {
    return EVP_PKEY_PUBLIC_KEY;
}
static inline int shopfloor_EVP_PKEY_KEYPAIR(void) {
    return EVP_PKEY_KEYPAIR;
}
// EVP_EC_gen expands to the variadic EVP_PKEY_Q_keygen.
static inline EVP_PKEY *shopfloor_EVP_EC_gen(const char *curve) {
    return EVP_EC_gen(curve);
}
// OPENSSL_clear_free is a macro that passes the caller's file and line to CRYPTO_clear_free.
static inline void shopfloor_OPENSSL_clear_free(void *pointer, size_t length) {
    OPENSSL_clear_free(pointer, length);
}
#endif
