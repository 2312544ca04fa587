import COpenSSL

/// AES-128 in Galois/Counter Mode (NIST SP 800-38D) through `EVP_CIPHER_CTX`, with a 96-bit nonce and
/// a 128-bit tag appended to the ciphertext: the AEAD that RFC 8188 `aes128gcm` content coding uses.
///
/// There is no associated data, because RFC 8188 uses none. A nonce must never be used twice with one
/// key; Web Push derives a fresh key from a fresh salt for every message, so it never is.
public enum AES128GCM {
    public static let keyLength = 16
    public static let nonceLength = 12
    public static let tagLength = 16

    /// `plaintext` encrypted, followed by the tag.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        let context = try CipherContext(key: key, nonce: nonce, encrypting: true)
        var sealed = try context.update(plaintext, call: "EVP_EncryptUpdate")
        sealed += try context.final(call: "EVP_EncryptFinal_ex")
        var tag = [UInt8](repeating: 0, count: tagLength)
        let status = tag.withUnsafeMutableBytes { EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_GET_TAG, Int32(tagLength), $0.baseAddress) }
        guard status == 1 else { throw .openSSL("EVP_CIPHER_CTX_ctrl(EVP_CTRL_GCM_GET_TAG)") }
        return sealed + tag
    }

    /// The plaintext of `sealed` (ciphertext then tag), or ``CryptoError/authenticationFailed`` when
    /// the tag does not match; nothing of a forged message is returned.
    public static func open(_ sealed: [UInt8], key: [UInt8], nonce: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard sealed.count >= tagLength else { throw .invalidLength(of: "sealed message", expected: tagLength, actual: sealed.count) }
        let context = try CipherContext(key: key, nonce: nonce, encrypting: false)
        var plaintext = try context.update(Array(sealed.dropLast(tagLength)), call: "EVP_DecryptUpdate")
        var tag = Array(sealed.suffix(tagLength))
        let status = tag.withUnsafeMutableBytes { EVP_CIPHER_CTX_ctrl(context.pointer, EVP_CTRL_GCM_SET_TAG, Int32(tagLength), $0.baseAddress) }
        guard status == 1 else { throw .openSSL("EVP_CIPHER_CTX_ctrl(EVP_CTRL_GCM_SET_TAG)") }
        do {
            plaintext += try context.final(call: "EVP_DecryptFinal_ex")
        } catch {
            // GCM's final step fails for one reason only, a tag mismatch; OpenSSL queues no message
            // for it, but clear the queue all the same.
            CryptoError.drainErrorQueue()
            throw .authenticationFailed
        }
        return plaintext
    }
}

/// One `EVP_CIPHER_CTX` set up for AES-128-GCM with a key and nonce; freed on `deinit`.
private final class CipherContext {
    let pointer: OpaquePointer

    init(key: [UInt8], nonce: [UInt8], encrypting: Bool) throws(CryptoError) {
        guard key.count == AES128GCM.keyLength else {
            throw .invalidLength(of: "AES-128 key", expected: AES128GCM.keyLength, actual: key.count)
        }
        // 12 bytes is GCM's default IV length in OpenSSL, so no EVP_CTRL_GCM_SET_IVLEN is needed.
        guard nonce.count == AES128GCM.nonceLength else {
            throw .invalidLength(of: "AES-GCM nonce", expected: AES128GCM.nonceLength, actual: nonce.count)
        }
        guard let pointer = EVP_CIPHER_CTX_new() else { throw .openSSL("EVP_CIPHER_CTX_new") }
        self.pointer = pointer
        let status = key.withUnsafeBufferPointer { key in
            nonce.withUnsafeBufferPointer { nonce in
                EVP_CipherInit_ex(pointer, EVP_aes_128_gcm(), nil, key.baseAddress, nonce.baseAddress, encrypting ? 1 : 0)
            }
        }
        guard status == 1 else { throw .openSSL("EVP_CipherInit_ex") }
    }

    deinit { EVP_CIPHER_CTX_free(pointer) }

    /// Runs `input` through the cipher; GCM is a stream mode, so the output is as long as the input.
    func update(_ input: [UInt8], call: String) throws(CryptoError) -> [UInt8] {
        guard !input.isEmpty else { return [] }
        var output = [UInt8](repeating: 0, count: input.count)
        var written: Int32 = 0
        let status = input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { output in
                EVP_CipherUpdate(pointer, output.baseAddress, &written, input.baseAddress, Int32(input.count))
            }
        }
        guard status == 1 else { throw .openSSL(call) }
        return Array(output.prefix(Int(written)))
    }

    /// Finishes the message: computes the tag when sealing, checks it when opening.
    func final(call: String) throws(CryptoError) -> [UInt8] {
        // GCM holds nothing back, so the final step writes no bytes; a block is room enough regardless.
        var output = [UInt8](repeating: 0, count: 16)
        var written: Int32 = 0
        let status = output.withUnsafeMutableBufferPointer { EVP_CipherFinal_ex(pointer, $0.baseAddress, &written) }
        guard status == 1 else { throw .openSSL(call) }
        return Array(output.prefix(Int(written)))
    }
}
