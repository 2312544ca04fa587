import COpenSSL

/// One TLS session over a non-blocking socket, driven by its connection's event loop (a server
/// session) or by a ``ClientConnection`` waiting with `poll` (a client session).
///
/// OpenSSL's `SSL_ERROR_WANT_READ`/`WANT_WRITE` are outcomes here, not errors: the caller waits for
/// the socket to become readable or writable and calls again (see `SSL_get_error(3)`).
final class TLSConnection {
    enum Outcome: Equatable {
        case done(Int)
        case wantRead
        case wantWrite
        case closed
    }

    private let ssl: OpaquePointer
    private(set) var handshakeComplete = false

    init(context: TLSContext, fd: Int32) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw .fromQueue(call: "SSL_new") }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else { throw .fromQueue(call: "SSL_set_fd") }
        SSL_set_accept_state(ssl)
    }

    /// A client session. The peer's certificate must name `host`: a DNS name is matched as RFC 6125
    /// says (`SSL_set1_host`) and also sent as SNI; an IP literal is matched against the certificate's
    /// IP addresses and not sent, as RFC 6066 §3 forbids literals in SNI.
    init(context: TLSClientContext, fd: Int32, host: String) throws(TLSError) {
        guard let ssl = SSL_new(context.context) else { throw .fromQueue(call: "SSL_new") }
        self.ssl = ssl
        guard SSL_set_fd(ssl, fd) == 1 else { throw .fromQueue(call: "SSL_set_fd") }
        if X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) != 1 {
            // Not an IP literal: that call may have queued a parse error, which is not ours to report.
            ERR_clear_error()
            guard SSL_set1_host(ssl, host) == 1 else { throw .fromQueue(call: "SSL_set1_host(\(host))") }
            guard shopfloor_SSL_set_tlsext_host_name(ssl, host) == 1 else {
                throw .fromQueue(call: "SSL_set_tlsext_host_name(\(host))")
            }
        }
        SSL_set_connect_state(ssl)
    }

    deinit { SSL_free(ssl) }

    /// Advances the handshake; `.done` once it has finished.
    func handshake() throws(TLSError) -> Outcome {
        let result = SSL_do_handshake(ssl)
        if result == 1 {
            handshakeComplete = true
            return .done(0)
        }
        return try outcome(of: result, call: "SSL_do_handshake")
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Outcome {
        let result = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
        if result > 0 { return .done(Int(result)) }
        return try outcome(of: result, call: "SSL_read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> Outcome {
        let result = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
        if result > 0 { return .done(Int(result)) }
        return try outcome(of: result, call: "SSL_write")
    }

    /// Whether OpenSSL holds decrypted bytes that epoll cannot see.
    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

    /// The protocol chosen by ALPN, if any.
    var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Why the peer's certificate was refused (`X509_verify_cert_error_string`), if it was.
    var verificationFailure: String? {
        let result = SSL_get_verify_result(ssl)
        guard result != X509_V_OK else { return nil }
        return String(cString: X509_verify_cert_error_string(result))
    }

    /// Sends close_notify without waiting for the peer's.
    func shutdown() {
        if handshakeComplete { _ = SSL_shutdown(ssl) }
    }

    private func outcome(of result: Int32, call: String) throws(TLSError) -> Outcome {
        switch SSL_get_error(ssl, result) {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0: return .closed
        default: throw .fromQueue(call: call)
        }
    }
}

@available(*, unavailable)
extension TLSConnection: Sendable {}
