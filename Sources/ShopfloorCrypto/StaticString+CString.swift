extension StaticString {
    /// The literal as a NUL-terminated C string in static storage, valid for the life of the process
    /// (the compiler emits literals NUL-terminated, which `os_log`'s format strings rely on too).
    ///
    /// OpenSSL keeps some of the strings it is given instead of copying them: `EVP_PKEY_CTX_new_from_name`
    /// keeps the key type, `OSSL_PARAM_BLD` and the parameter arrays it makes keep the names, and
    /// encoder and decoder contexts keep their input and output types. The pointer a Swift `String`
    /// bridges to lives only for the call, so it would dangle; every string this module hands to
    /// OpenSSL comes from here instead.
    var cString: UnsafePointer<CChar> {
        precondition(hasPointerRepresentation, "a C string needs a string literal, not a single scalar")
        return UnsafeRawPointer(utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
