@testable import ShopfloorDomain
import ShopfloorJSON
import Testing

/// Event payloads written by hand (every cart write appends one) say what their `Encodable` conformance says.
struct EventPayloadJSONTests {
    @Test func handWrittenEventPayloadsAreTheEncodableOnes() throws {
        let line = LineEvent(cartID: "cart_1", lineID: "line_1", sku: "MUG-\"1\"", quantity: 3, title: "Mug — blue\n")
        #expect(try JSONCoding.encode(line) == Array(try JSONCoding.encode([line]).dropFirst().dropLast()))
        let stock = StockChanged(sku: "MUG-1", available: -2, onHand: 0, reserved: 2, location: "main")
        #expect(try JSONCoding.encode(stock) == Array(try JSONCoding.encode([stock]).dropFirst().dropLast()))
    }
}
