import ShopfloorDomain

/// Events on the wire: `{"seq","type","topic","at","data"}`, with `data` inserted as the JSON text it
/// was stored as, so an event is encoded once however many clients receive it.
enum EventDTO {
    static func encode(_ event: Event) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + event.data.utf8.count)
        out.append(contentsOf: #"{"at":"#.utf8)
        appendString(event.at, to: &out)
        out.append(contentsOf: #","data":"#.utf8)
        out.append(contentsOf: event.data.utf8)
        out.append(contentsOf: #","seq":\#(event.seq),"topic":"#.utf8)
        appendString(event.topic, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        appendString(event.type, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A page of events as a list response.
    static func page(_ events: [Event], nextCursor: String?) -> [UInt8] {
        var out = Array(#"{"items":["#.utf8)
        for (index, event) in events.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: encode(event))
        }
        out.append(contentsOf: #"],"next_cursor":"#.utf8)
        if let nextCursor { appendString(nextCursor, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A JSON string literal; our topics, types and times need no escapes beyond these.
    private static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), byte])
            case 0..<0x20: out.append(contentsOf: Array("\\u00\(byte < 16 ? "0" : "")\(String(byte, radix: 16))".utf8))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
