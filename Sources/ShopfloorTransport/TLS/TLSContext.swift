import COpenSSL

/// A server `SSL_CTX`: certificate chain and key, TLS 1.2 or newer, ALPN `http/1.1`.
///
/// `@unchecked Sendable`: configured once in `init` and never changed after; OpenSSL documents an
/// `SSL_CTX` as safe to share between threads that create `SSL` objects from it.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer

    /// Loads a PEM certificate chain and private key and checks that they match.
    public init(certificatePath: String, keyPath: String) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw .fromQueue(call: "SSL_CTX_new") }
        self.context = context
        guard shopfloor_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw .fromQueue(call: "SSL_CTX_set_min_proto_version")
        }
        _ = shopfloor_SSL_CTX_set_options(context, Int(shopfloor_server_options()))
        _ = shopfloor_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE) | Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER) | Int(SSL_MODE_RELEASE_BUFFERS))
        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw .fromQueue(call: "SSL_CTX_use_certificate_chain_file(\(certificatePath))")
        }
        guard SSL_CTX_use_PrivateKey_file(context, keyPath, SSL_FILETYPE_PEM) == 1 else {
            throw .fromQueue(call: "SSL_CTX_use_PrivateKey_file(\(keyPath))")
        }
        guard SSL_CTX_check_private_key(context) == 1 else { throw .fromQueue(call: "SSL_CTX_check_private_key") }
        SSL_CTX_set_alpn_select_cb(context, { _, out, outLength, input, inputLength, _ in
            // Pick `http/1.1` from the client's list, pointing into that list (it outlives the
            // handshake); without it, carry on with no ALPN, as RFC 7301 §3.2 allows.
            guard let input else { return SSL_TLSEXT_ERR_NOACK }
            let wanted = Array("http/1.1".utf8)
            var index = 0
            while index < Int(inputLength) {
                let length = Int(input[index])
                let start = index + 1
                if start + length <= Int(inputLength), length == wanted.count,
                   (0..<length).allSatisfy({ input[start + $0] == wanted[$0] }) {
                    out?.pointee = input + start
                    outLength?.pointee = UInt8(length)
                    return SSL_TLSEXT_ERR_OK
                }
                index = start + length
            }
            return SSL_TLSEXT_ERR_NOACK
        }, nil)
    }

    deinit { SSL_CTX_free(context) }
}
