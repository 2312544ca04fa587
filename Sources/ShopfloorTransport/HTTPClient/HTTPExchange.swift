#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes

/// One request and its response, run start to end on one of the client's threads: a pooled connection
/// or a new one, the request written in one go, the response decoded, the connection pooled again
/// when both sides allow it.
///
/// **The one retry.** A reused connection may have been closed by the server while it sat idle, and
/// the request then fails before any byte of a response arrives. That request is sent once more, on
/// a fresh connection, within the same total deadline. The server may in fact have received and acted
/// on the first copy and closed before answering, so a POST can arrive twice. That is accepted because
/// what goes through this client is delivered at least once anyway: a caller that must deliver sends
/// again any request whose answer it did not get, and gives receivers an id to de-duplicate by. A
/// failure after response bytes arrived, a timeout, or one on a fresh connection is never retried here.
struct HTTPExchange: Sendable {
    let configuration: HTTPClientConfiguration
    let tlsContext: TLSClientContext
    let pool: HTTPConnectionPool

    /// How a request failed, and whether the response had started.
    private struct Failure: Error {
        let error: HTTPClientError
        /// A byte of the response arrived, so the server certainly had the request.
        let responseStarted: Bool

        /// The closed-while-idle case: the connection broke before any answer. Not a timeout, which
        /// may mean a server still at work on the request.
        var mayRetry: Bool {
            guard !responseStarted else { return false }
            switch error {
            case .connectionClosedEarly, .system, .tlsFailure: return true
            case .invalidURL, .invalidRequest, .addressRefused, .dnsFailure, .connectFailed, .timeout, .malformedResponse, .shutDown:
                return false
            }
        }
    }

    func run(_ request: HTTPClientRequest) -> Result<HTTPClientResponse, HTTPClientError> {
        Result { () throws(HTTPClientError) in try perform(request) }
    }

    private func perform(_ request: HTTPClientRequest) throws(HTTPClientError) -> HTTPClientResponse {
        let bytes = try HTTPRequestEncoder.encode(request)
        let deadline = ContinuousClock.now + (request.timeout ?? configuration.totalTimeout)
        guard !pool.isShutDown else { throw .shutDown }
        if let reused = pool.checkOut(request.url.origin, now: .now) {
            do {
                return try exchange(bytes, for: request, on: reused, deadline: deadline)
            } catch {
                guard error.mayRetry else { throw error.error }
            }
        }
        let connection = try open(request.url, deadline: deadline)
        do {
            return try exchange(bytes, for: request, on: connection, deadline: deadline)
        } catch {
            throw error.error
        }
    }

    /// Connects to the URL's host, vetting each address with the policy, and starts TLS for `https`.
    private func open(_ url: HTTPClientURL, deadline: ContinuousClock.Instant) throws(HTTPClientError) -> ClientConnection {
        let connectDeadline = ContinuousClock.now + configuration.connectTimeout
        var (timeout, kind) = Self.wait(until: connectDeadline, as: .connect, total: deadline)
        let connection: ClientConnection
        do {
            connection = try ClientConnection.connect(host: url.host, port: url.port, timeout: timeout, admits: configuration.addressPolicy.admits)
        } catch {
            throw Self.mapped(error, timeout: kind, connecting: true)
        }
        guard url.scheme == .https else { return connection }
        (timeout, kind) = Self.wait(until: connectDeadline, as: .connect, total: deadline)
        do {
            try connection.startTLS(tlsContext, host: url.host, timeout: timeout)
        } catch {
            connection.close()
            throw Self.mapped(error, timeout: kind, connecting: true)
        }
        return connection
    }

    /// Writes `bytes` and reads the response on `connection`, which it then pools or closes.
    private func exchange(
        _ bytes: [UInt8], for request: HTTPClientRequest, on connection: ClientConnection, deadline: ContinuousClock.Instant
    ) throws(Failure) -> HTTPClientResponse {
        var (timeout, kind) = Self.wait(until: .now + configuration.readTimeout, as: .read, total: deadline)
        do {
            try connection.write(bytes, timeout: timeout)
        } catch {
            connection.close()
            throw Failure(error: Self.mapped(error, timeout: kind, connecting: false), responseStarted: false)
        }
        let limits = HTTPResponseDecoder.Limits(
            maxHeadBytes: configuration.maxResponseHeadBytes, maxHeaderCount: configuration.maxResponseHeaderCount,
            maxBodyBytes: configuration.maxResponseBodyBytes)
        var decoder = HTTPResponseDecoder(limits: limits, requestMethod: request.method)
        var responseStarted = false
        while true {
            (timeout, kind) = Self.wait(until: .now + configuration.readTimeout, as: .read, total: deadline)
            let received: [UInt8]
            do {
                received = try connection.read(timeout: timeout)
            } catch {
                connection.close()
                if case .closedByPeer = error, let message = decoder.receiveEndOfStream() { return message.response }
                throw Failure(error: Self.mapped(error, timeout: kind, connecting: false), responseStarted: responseStarted)
            }
            responseStarted = true
            let progress: HTTPResponseDecoder.Progress
            do {
                progress = try decoder.receive(received)
            } catch {
                connection.close()
                throw Failure(error: .malformedResponse(error), responseStarted: true)
            }
            guard case .complete(let message) = progress else { continue }
            if message.keepAlive && !Self.asksToClose(request) {
                pool.checkIn(connection, origin: request.url.origin, now: .now)
            } else {
                connection.close()
            }
            return message.response
        }
    }

    /// Whether the caller sent `Connection: close` (RFC 9112 §9.6).
    private static func asksToClose(_ request: HTTPClientRequest) -> Bool {
        request.headerFields[values: .connection].contains { value in
            value.utf8.split(separator: .comma).contains { $0.trimmingOWS().equalsLowercased("close") }
        }
    }

    /// How long the next wait may take: until `phaseDeadline`, or the total deadline if that comes
    /// first, and which timeout it is when it passes.
    private static func wait(
        until phaseDeadline: ContinuousClock.Instant, as kind: HTTPClientError.TimeoutKind, total: ContinuousClock.Instant
    ) -> (Duration, HTTPClientError.TimeoutKind) {
        let now = ContinuousClock.now
        if total <= phaseDeadline { return (max(.zero, now.duration(to: total)), .total) }
        return (now.duration(to: phaseDeadline), kind)
    }

    private static func mapped(_ error: ClientConnectionError, timeout kind: HTTPClientError.TimeoutKind, connecting: Bool) -> HTTPClientError {
        switch error {
        case .resolution(let host, let reason): .dnsFailure(host: host, reason: reason)
        case .addressRefused(let host, let addresses): .addressRefused(host: host, addresses: addresses.map(\.host))
        case .system(let failure) where connecting: .connectFailed(failure)
        case .system(let failure) where failure.errno == ECONNRESET || failure.errno == EPIPE: .connectionClosedEarly
        case .system(let failure): .system(failure)
        case .timedOut: .timeout(kind)
        case .closedByPeer: .connectionClosedEarly
        case .tls(let failure, let verification): .tlsFailure(failure, verification: verification)
        case .lineTooLong, .unexpectedInputBeforeTLS:
            preconditionFailure("\(error): only line reads raise this, and HTTP makes none")
        }
    }
}
