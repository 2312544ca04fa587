/// Hands messages to one SMTP server (RFC 5321), over TLS when configured (RFC 3207, RFC 8314),
/// authenticating when given credentials (RFC 4954), keeping the connection open between messages.
///
/// Blocking: every call waits on the network, bounded by ``Timeouts``. Run it on a thread of its own
/// (outbound mail gives each connection one), never on the cooperative pool or an event loop. One
/// thread uses a client at a time, so it is not `Sendable`: make it on the thread that uses it, and
/// call ``close()`` there when done (it says QUIT); `deinit` only closes the socket.
///
/// ``send(_:)`` opens a connection, or reuses the open one after `RSET` (reconnecting once if that
/// fails: servers drop idle connections). A failed message leaves a connection open when the dialogue
/// is still in step (a 4yz or 5yz reply other than 421); any other failure closes it.
public final class SMTPClient {
    /// How long each step may take. The defaults are RFC 5321 §4.5.3.2's minimums for a client,
    /// except connecting, which the RFC leaves open.
    public struct Timeouts: Sendable, Equatable {
        /// Resolving aside, reaching the server, and an implicit TLS handshake.
        public var connect: Duration
        /// Each command's reply, the greeting and a STARTTLS handshake.
        public var command: Duration
        /// Sending the message and waiting for the reply to its end (§4.5.3.2.6 allows 10 minutes).
        public var data: Duration

        public init(connect: Duration = .seconds(30), command: Duration = .seconds(300), data: Duration = .seconds(600)) {
            self.connect = connect
            self.command = command
            self.data = data
        }
    }

    public let configuration: SMTPConfiguration
    private let localName: String
    private let timeouts: Timeouts
    private let tlsContext: TLSClientContext?
    private var connection: ClientConnection?
    /// What the server of ``connection`` announced in its last EHLO reply.
    private var extensions = SMTPExtensions()

    /// - Parameters:
    ///   - tlsContext: the trust to verify the server with; `nil` makes a context with the system's
    ///     roots when `configuration` uses TLS.
    ///   - localName: the name given in EHLO: this host's domain, or an address literal such as
    ///     `[192.0.2.1]` (RFC 5321 §4.1.1.1). Relays may refuse `localhost`; production should pass its own.
    public init(
        configuration: SMTPConfiguration, tlsContext: TLSClientContext? = nil, localName: String = "localhost",
        timeouts: Timeouts = Timeouts()
    ) throws(SMTPConfigurationError) {
        guard Self.isValidLocalName(localName) else { throw .invalidLocalName(localName) }
        self.configuration = configuration
        self.localName = localName
        self.timeouts = timeouts
        if let tlsContext {
            self.tlsContext = tlsContext
        } else if configuration.security != .none {
            do { self.tlsContext = try TLSClientContext() } catch { throw .tlsContext(error) }
        } else {
            self.tlsContext = nil
        }
    }

    /// Delivers `mail` to every address of its `to` list, from its `from` address, or to none.
    ///
    /// All or nothing: if the server refuses any recipient, no message is sent, so a retry never
    /// reaches someone twice. The error says whether a retry can help (``SMTPError/isTemporary``).
    public func send(_ mail: MailMessage) throws(SMTPError) -> SMTPDelivery {
        let message = mail.rendered()
        let (connection, reused) = try readyConnection()
        do {
            let reply = try transact(mail, message: message, on: connection)
            return SMTPDelivery(reply: reply, peer: connection.peer, reusedConnection: reused)
        } catch {
            if !Self.keepsConnection(error) { drop() }
            throw error
        }
    }

    /// Says QUIT, waits at most the command timeout for the reply, and closes the connection.
    public func close() {
        guard let connection else { return }
        _ = try? exchange(.quit, on: connection, timeout: timeouts.command)
        drop()
    }

    // MARK: - Connection

    /// The open connection after a successful `RSET`, or a new one.
    private func readyConnection() throws(SMTPError) -> (ClientConnection, reused: Bool) {
        if let connection {
            if let reply = try? exchange(.rset, on: connection, timeout: timeouts.command), reply.code == 250 {
                return (connection, true)
            }
            // Closed by the server while idle, or out of step: start afresh, once.
            drop()
        }
        return (try open(), false)
    }

    private func open() throws(SMTPError) -> ClientConnection {
        let connection: ClientConnection
        do {
            connection = try ClientConnection.connect(host: configuration.host, port: configuration.port, timeout: timeouts.connect)
        } catch {
            throw Self.mapped(error, during: "connect")
        }
        do throws(SMTPError) {
            if configuration.security == .implicitTLS { try startTLS(on: connection, timeout: timeouts.connect) }
            let greeting = try readReply(on: connection, to: "the greeting", timeout: timeouts.command)
            guard greeting.code == 220 else { throw Self.failure(greeting, to: "the greeting") }
            var extensions = try hello(on: connection)
            if configuration.security == .startTLS || configuration.security == .startTLSIfOffered {
                if extensions.startTLS {
                    let reply = try exchange(.startTLS, on: connection, timeout: timeouts.command)
                    guard reply.code == 220 else { throw Self.failure(reply, to: "STARTTLS") }
                    try startTLS(on: connection, timeout: timeouts.command)
                    extensions = try hello(on: connection)
                } else if configuration.security == .startTLS {
                    throw .tls("the server does not offer STARTTLS, which the configuration requires")
                }
            }
            if let credentials = configuration.credentials {
                try authenticate(credentials, extensions: extensions, on: connection)
            }
            self.connection = connection
            self.extensions = extensions
            return connection
        } catch {
            connection.close()
            throw error
        }
    }

    private func startTLS(on connection: ClientConnection, timeout: Duration) throws(SMTPError) {
        guard let tlsContext else { preconditionFailure("TLS without a context: init makes one whenever TLS is configured") }
        do {
            try connection.startTLS(tlsContext, host: configuration.host, timeout: timeout)
        } catch {
            throw Self.mapped(error, during: "TLS handshake")
        }
    }

    /// EHLO, or HELO for a server that does not know EHLO (RFC 5321 §3.2).
    private func hello(on connection: ClientConnection) throws(SMTPError) -> SMTPExtensions {
        let reply = try exchange(.ehlo(localName), on: connection, timeout: timeouts.command)
        if reply.code == 250 { return SMTPExtensions(ehloReply: reply) }
        guard reply.isPermanentFailure else { throw Self.failure(reply, to: "EHLO") }
        let helo = try exchange(.helo(localName), on: connection, timeout: timeouts.command)
        guard helo.code == 250 else { throw Self.failure(helo, to: "HELO") }
        return SMTPExtensions()
    }

    /// AUTH PLAIN (RFC 4616) with an initial response, or LOGIN where the server offers only that;
    /// only over TLS, whatever the configuration says.
    private func authenticate(_ credentials: SMTPCredentials, extensions: SMTPExtensions, on connection: ClientConnection) throws(SMTPError) {
        guard connection.isTLS else {
            throw .authenticationUnsupported("the connection has no TLS, and credentials are never sent in the clear")
        }
        var reply: SMTPReply
        if extensions.authMechanisms.contains("PLAIN") {
            let response = Base64.encode([0] + Array(credentials.user.utf8) + [0] + Array(credentials.password.utf8))
            reply = try exchange(.auth(mechanism: "PLAIN", initialResponse: response), on: connection, timeout: timeouts.command)
        } else if extensions.authMechanisms.contains("LOGIN") {
            reply = try exchange(.auth(mechanism: "LOGIN", initialResponse: nil), on: connection, timeout: timeouts.command)
            for secret in [credentials.user, credentials.password] where reply.code == 334 {
                reply = try exchange(.authResponse(Base64.encode(Array(secret.utf8))), on: connection, timeout: timeouts.command)
            }
        } else if extensions.authMechanisms.isEmpty {
            throw .authenticationUnsupported("the server does not offer AUTH")
        } else {
            throw .authenticationUnsupported("the server offers AUTH \(extensions.authMechanisms.sorted().joined(separator: " ")), not PLAIN or LOGIN")
        }
        guard reply.code == 235 else {
            guard reply.isPermanentFailure else { throw Self.failure(reply, to: "AUTH") }
            throw .authenticationFailed(code: reply.code, text: reply.text)
        }
    }

    /// Closes the connection without a word: it failed, or QUIT was said.
    private func drop() {
        connection?.close()
        connection = nil
        extensions = SMTPExtensions()
    }

    // MARK: - Transaction

    /// MAIL FROM, a RCPT TO per recipient (together, with PIPELINING: RFC 2920 §3.1), DATA, the
    /// message; the reply to its end.
    private func transact(_ mail: MailMessage, message: [UInt8], on connection: ClientConnection) throws(SMTPError) -> SMTPReply {
        let recipients = mail.to.map(\.address)
        let needsUTF8 = !mail.from.isASCII || mail.to.contains { !$0.isASCII }
        guard !needsUTF8 || extensions.smtpUTF8 else {
            throw .unsupportedByServer("SMTPUTF8, which a non-ASCII address needs (RFC 6531)")
        }
        var parameters: [String] = []
        if let limit = extensions.sizeLimit {
            guard message.count <= limit else { throw .messageTooLarge(size: message.count, limit: limit) }
            parameters.append("SIZE=\(message.count)")
        }
        if message.contains(where: { $0 >= 0x80 }) {
            if extensions.eightBitMIME {
                parameters.append("BODY=8BITMIME")
            } else if !needsUTF8 {
                throw .unsupportedByServer("8BITMIME, which a message with 8-bit bytes needs (RFC 6152)")
            }
        }
        if needsUTF8 { parameters.append("SMTPUTF8") }

        let envelope: [SMTPCommand] = [.mail(from: mail.from.address, parameters: parameters)] + recipients.map { .rcpt(to: $0) }
        if extensions.pipelining {
            try write(envelope.flatMap(\.line), on: connection, for: "MAIL FROM", timeout: timeouts.command)
            var replies: [SMTPReply] = []
            for command in envelope {
                replies.append(try readReply(on: connection, to: command.name, timeout: timeouts.command))
            }
            try checkMail(replies[0])
            for (recipient, reply) in zip(recipients, replies.dropFirst()) { try checkRecipient(recipient, reply) }
        } else {
            try checkMail(try exchange(envelope[0], on: connection, timeout: timeouts.command))
            for (recipient, command) in zip(recipients, envelope.dropFirst()) {
                try checkRecipient(recipient, try exchange(command, on: connection, timeout: timeouts.command))
            }
        }

        let start = try exchange(.data, on: connection, timeout: timeouts.command)
        guard start.code == 354 else { throw Self.failure(start, to: "DATA") }
        try write(SMTPDataEncoder.encode(message), on: connection, for: "the message", timeout: timeouts.data)
        let end = try readReply(on: connection, to: "the end of the message", timeout: timeouts.data)
        guard end.code == 250 else { throw Self.failure(end, to: "the end of the message") }
        return end
    }

    private func checkMail(_ reply: SMTPReply) throws(SMTPError) {
        guard reply.code != 250 else { return }
        if reply.code == 530 { throw .authenticationRequired(code: reply.code, text: reply.text) }
        throw Self.failure(reply, to: "MAIL FROM")
    }

    /// 250, or 251 (a server forwarding to a new address, §3.4), accept the recipient.
    private func checkRecipient(_ address: String, _ reply: SMTPReply) throws(SMTPError) {
        guard reply.code != 250, reply.code != 251 else { return }
        if reply.isPermanentFailure { throw .recipientRejected(address: address, code: reply.code, text: reply.text) }
        throw Self.failure(reply, to: "RCPT TO")
    }

    // MARK: - Wire

    private func exchange(_ command: SMTPCommand, on connection: ClientConnection, timeout: Duration) throws(SMTPError) -> SMTPReply {
        try write(command.line, on: connection, for: command.name, timeout: timeout)
        return try readReply(on: connection, to: command.name, timeout: timeout)
    }

    private func write(_ bytes: [UInt8], on connection: ClientConnection, for what: String, timeout: Duration) throws(SMTPError) {
        do {
            try connection.write(bytes, timeout: timeout)
        } catch {
            throw Self.mapped(error, during: "sending \(what)")
        }
    }

    /// One whole reply; `timeout` bounds each line.
    private func readReply(on connection: ClientConnection, to what: String, timeout: Duration) throws(SMTPError) -> SMTPReply {
        var parser = SMTPReplyParser()
        while true {
            let line: [UInt8]
            do {
                line = try connection.readLine(maxLength: SMTPReplyParser.maximumLineLength, timeout: timeout)
            } catch {
                throw Self.mapped(error, during: "waiting for the reply to \(what)")
            }
            if let reply = try parser.parse(line: line) { return reply }
        }
    }

    // MARK: - Errors

    /// A reply that is not the one expected: 4yz and 5yz by their class, anything else breaks the protocol.
    private static func failure(_ reply: SMTPReply, to what: String) -> SMTPError {
        if reply.isTransientFailure { return .temporary(code: reply.code, text: reply.text) }
        if reply.isPermanentFailure { return .permanent(code: reply.code, text: reply.text) }
        return .protocolViolation("unexpected reply \(reply.code) to \(what)")
    }

    private static func mapped(_ error: ClientConnectionError, during what: String) -> SMTPError {
        switch error {
        case .resolution, .addressRefused, .system, .closedByPeer: .connection("\(what): \(error)")
        case .timedOut: .timeout("\(what): \(error)")
        case .tls: .tls("\(what): \(error)")
        case .lineTooLong, .unexpectedInputBeforeTLS: .protocolViolation("\(what): \(error)")
        }
    }

    /// Whether the dialogue is still in step after `error`: the server answered, and not with 421,
    /// after which it closes (§3.8); or nothing was sent.
    private static func keepsConnection(_ error: SMTPError) -> Bool {
        switch error {
        case .temporary(let code, _): code != 421
        case .permanent, .recipientRejected, .authenticationRequired, .unsupportedByServer, .messageTooLarge: true
        case .authenticationFailed, .authenticationUnsupported, .connection, .tls, .timeout, .protocolViolation: false
        }
    }

    /// A domain (letters, digits, hyphens, dots) or an address literal in brackets (§4.1.3).
    private static func isValidLocalName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255 else { return false }
        if name.hasPrefix("[") {
            guard name.hasSuffix("]"), name.count > 2 else { return false }
            return name.dropFirst().dropLast().allSatisfy { $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == "." || $0.isLetter) }
        }
        return name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }
}

@available(*, unavailable)
extension SMTPClient: Sendable {}
