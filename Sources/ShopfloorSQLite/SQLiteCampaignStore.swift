import ShopfloorDomain
import ShopfloorStorage

/// Campaigns in table `campaigns` (migration 19), listed newest first by `position`; the customers
/// passed over, by reason, as a JSON object.
struct SQLiteCampaignStore: CampaignStore {
    let readers: ReaderPool

    private static let columns = """
        position, id, name, segment_id, channel, template, status, send_at, cursor, recipients, passed_over, started_at, finished_at,
        created_at, updated_at
        """

    func insert(_ campaign: Campaign, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            INSERT INTO campaigns (id, name, segment_id, channel, template, status, send_at, cursor, recipients, passed_over, started_at,
                finished_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [.text(campaign.id.rawValue), .text(campaign.name), .text(campaign.segmentID.rawValue), .text(campaign.channel.rawValue),
             .text(campaign.template), .text(campaign.status.rawValue), .text(campaign.sendAt), .integer(campaign.cursor),
             .integer(Int64(campaign.recipients)), try .json(encoding: campaign.passedOver), .optional(campaign.startedAt),
             .optional(campaign.finishedAt), .text(campaign.createdAt), .text(campaign.updatedAt)])
    }

    func update(_ campaign: Campaign, in transaction: any WriteTransaction) throws {
        try transaction.connection.run(
            """
            UPDATE campaigns SET status = ?, cursor = ?, recipients = ?, passed_over = ?, started_at = ?, finished_at = ?, updated_at = ?
            WHERE id = ?
            """,
            [.text(campaign.status.rawValue), .integer(campaign.cursor), .integer(Int64(campaign.recipients)), try .json(encoding: campaign.passedOver),
             .optional(campaign.startedAt), .optional(campaign.finishedAt), .text(campaign.updatedAt), .text(campaign.id.rawValue)])
    }

    func campaign(_ id: CampaignID, in transaction: any WriteTransaction) throws -> Campaign? {
        try transaction.connection.query("SELECT \(Self.columns) FROM campaigns WHERE id = ?", [.text(id.rawValue)]).first.map {
            try Self.campaign(StoredRow($0, table: "campaigns", keyColumn: "id"))
        }
    }

    func campaign(_ id: CampaignID) throws -> Campaign? {
        try readers.read { connection in
            try connection.query("SELECT \(Self.columns) FROM campaigns WHERE id = ?", [.text(id.rawValue)]).first.map {
                try Self.campaign(StoredRow($0, table: "campaigns", keyColumn: "id"))
            }
        }
    }

    func campaigns(before: Int64, limit: Int) throws -> [(position: Int64, campaign: Campaign)] {
        try readers.read { connection in
            try connection.query("SELECT \(Self.columns) FROM campaigns WHERE position < ? ORDER BY position DESC LIMIT ?",
                                 [.integer(before), .integer(Int64(limit))]).map { values in
                let row = StoredRow(values, table: "campaigns", keyColumn: "id")
                return (try row.int64("position"), try Self.campaign(row))
            }
        }
    }

    private static func campaign(_ row: StoredRow) throws -> Campaign {
        Campaign(
            id: try row.id("id", as: CampaignID.self), name: try row.text("name"), segmentID: try row.id("segment_id", as: SegmentID.self),
            channel: try row.value("channel", as: MessageChannel.self), template: try row.text("template"),
            status: try row.value("status", as: CampaignStatus.self), sendAt: try row.text("send_at"), cursor: try row.int64("cursor"),
            recipients: try row.int("recipients"), passedOver: try row.json("passed_over", as: [String: Int].self),
            startedAt: try row.optionalText("started_at"), finishedAt: try row.optionalText("finished_at"), createdAt: try row.text("created_at"),
            updatedAt: try row.text("updated_at"))
    }
}
