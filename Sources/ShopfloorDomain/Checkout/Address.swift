/// A postal address (API.md, Addresses); `country` is ISO 3166-1 alpha-2.
public struct Address: Codable, Sendable, Equatable {
    public var name: String
    public var line1: String
    public var line2: String?
    public var city: String
    public var region: String?
    public var postalCode: String
    public var country: String
    public var phone: String?

    public init(name: String, line1: String, line2: String?, city: String, region: String?, postalCode: String, country: String, phone: String?) {
        self.name = name
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.country = country
        self.phone = phone
    }

    /// The first word of the name: all a public tracking page shows of the customer.
    public var firstName: String { String(name.split(separator: " ").first ?? "") }

    func validate(_ field: String, into validator: inout Validator) {
        validator.text(name, "\(field).name", max: 200)
        validator.text(line1, "\(field).line1", max: 200)
        validator.text(line2, "\(field).line2", max: 200, required: false)
        validator.text(city, "\(field).city", max: 100)
        validator.text(region, "\(field).region", max: 100, required: false)
        validator.text(postalCode, "\(field).postal_code", max: 20)
        validator.check(Address.isCountryCode(country), "\(field).country", "must be an ISO 3166-1 alpha-2 code such as GB")
        validator.text(phone, "\(field).phone", max: 40, required: false)
    }

    static func isCountryCode(_ text: String) -> Bool {
        text.utf8.count == 2 && text.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}
