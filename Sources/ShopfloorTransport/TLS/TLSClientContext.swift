import COpenSSL

/// A client `SSL_CTX`: TLS 1.2 or newer, and a peer certificate that must chain to a trusted root.
///
/// Trust comes from OpenSSL's default locations (`SSL_CTX_set_default_verify_paths`), which honour the
/// `SSL_CERT_FILE` and `SSL_CERT_DIR` environment variables as they are when the context is made, plus
/// an optional PEM file of extra roots (a private relay's CA, or a test's self-signed certificate).
/// The host name is checked per connection (see ``ClientConnection/startTLS(_:host:timeout:)``).
///
/// `@unchecked Sendable`: configured once in `init` and never changed after; OpenSSL documents an
/// `SSL_CTX` as safe to share between threads that create `SSL` objects from it.
public final class TLSClientContext: @unchecked Sendable {
    let context: OpaquePointer

    /// - Parameter additionalTrustedCertificatesPath: a PEM file whose certificates are trusted as roots
    ///   besides the system's.
    public init(additionalTrustedCertificatesPath: String? = nil) throws(TLSError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw .fromQueue(call: "SSL_CTX_new") }
        self.context = context
        guard shopfloor_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw .fromQueue(call: "SSL_CTX_set_min_proto_version")
        }
        // A write that would block is retried from the caller's current slice of the buffer.
        _ = shopfloor_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE) | Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        guard SSL_CTX_set_default_verify_paths(context) == 1 else {
            throw .fromQueue(call: "SSL_CTX_set_default_verify_paths")
        }
        if let path = additionalTrustedCertificatesPath {
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else {
                throw .fromQueue(call: "SSL_CTX_load_verify_locations(\(path))")
            }
        }
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
    }

    deinit { SSL_CTX_free(context) }
}
