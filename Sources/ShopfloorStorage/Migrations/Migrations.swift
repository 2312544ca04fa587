/// The schema, in order. Each feature appends its migrations here; released ones never change.
public enum Migrations {
    public static let all: [Migration] = [catalogue, carts, checkout, hotPath, reservationPages, cartLinePages, cartEventPages, locationOrder, idempotencyFingerprints, outbox, webhooks, issuedDiscounts, shortMessages, suppressions, customers, liveShoppers, visitorsLive, automation, engagement, stockCover, replenishment, replenishmentIndex, wishlist, proposalOrder, staffSessions, vouchedCustomers, productSearchInMemory]

    /// Keys, locations, products and variants with full-text search, stock levels and their
    /// movements, and the event log.
    static let catalogue = Migration(version: 1, name: "catalogue", sql: """
        CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('admin', 'pos', 'storefront')),
            location_id TEXT REFERENCES locations(id),
            secret_hash BLOB NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );

        CREATE TABLE locations (
            id TEXT PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('store', 'warehouse')),
            fulfils_online INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        INSERT INTO locations (id, code, name, kind, fulfils_online, created_at)
        VALUES ('loc_main', 'main', 'Main store', 'store', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

        CREATE TABLE products (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            description TEXT,
            category TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            images TEXT NOT NULL DEFAULT '[]',
            status TEXT NOT NULL CHECK (status IN ('active', 'draft', 'archived')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX products_category ON products(category, seq);
        CREATE INDEX products_status ON products(status, seq);

        CREATE TABLE variants (
            id TEXT PRIMARY KEY,
            product_seq INTEGER NOT NULL REFERENCES products(seq) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            sku TEXT NOT NULL UNIQUE,
            title TEXT,
            price_amount INTEGER NOT NULL,
            price_currency TEXT NOT NULL,
            attributes TEXT NOT NULL DEFAULT '{}',
            barcode TEXT UNIQUE,
            low_stock_threshold INTEGER
        );
        CREATE INDEX variants_product ON variants(product_seq, position);

        CREATE VIRTUAL TABLE product_search USING fts5(
            title, description, tags, skus,
            tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
        );

        CREATE TABLE stock_levels (
            sku TEXT NOT NULL,
            location_id TEXT NOT NULL REFERENCES locations(id),
            on_hand INTEGER NOT NULL CHECK (on_hand >= 0),
            reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= on_hand),
            PRIMARY KEY (sku, location_id)
        ) WITHOUT ROWID;

        CREATE TABLE stock_movements (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL,
            location_id TEXT NOT NULL,
            reason TEXT NOT NULL,
            delta INTEGER NOT NULL,
            on_hand_before INTEGER NOT NULL,
            on_hand_after INTEGER NOT NULL,
            actor TEXT NOT NULL,
            note TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX stock_movements_sku ON stock_movements(sku, id);

        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            type TEXT NOT NULL,
            topic TEXT NOT NULL,
            at TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX events_topic ON events(topic, seq);
        CREATE INDEX events_at ON events(at);

        CREATE TABLE idempotency_keys (
            key TEXT NOT NULL,
            scope TEXT NOT NULL,
            status INTEGER NOT NULL,
            body BLOB NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (scope, key)
        ) WITHOUT ROWID;
        """)

    /// Carts, their lines, and where each line's units are reserved.
    static let carts = Migration(version: 2, name: "carts", sql: """
        CREATE TABLE carts (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL CHECK (channel IN ('online', 'pos')),
            location_id TEXT REFERENCES locations(id),
            customer_id TEXT,
            email TEXT,
            currency TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'expired', 'completed', 'deleted')),
            checkout_step TEXT NOT NULL DEFAULT 'cart',
            expires_at TEXT NOT NULL,
            expires_at_ms INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX carts_status_expiry ON carts(status, expires_at_ms);
        CREATE INDEX carts_status_updated ON carts(status, updated_at);

        CREATE TABLE cart_lines (
            id TEXT PRIMARY KEY,
            cart_id TEXT NOT NULL REFERENCES carts(id),
            position INTEGER NOT NULL,
            sku TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            customisation TEXT,
            UNIQUE (cart_id, sku)
        );

        CREATE TABLE reservations (
            cart_id TEXT NOT NULL REFERENCES carts(id),
            sku TEXT NOT NULL,
            location_id TEXT NOT NULL REFERENCES locations(id),
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            PRIMARY KEY (cart_id, sku, location_id)
        ) WITHOUT ROWID;
        CREATE INDEX reservations_sku ON reservations(sku);
        """)

    /// Checkout fields on carts; tax rates, shipping methods, discounts and shop settings; orders
    /// with their lines, payments and history.
    static let checkout = Migration(version: 3, name: "checkout", sql: """
        ALTER TABLE carts ADD COLUMN shipping_address TEXT;
        ALTER TABLE carts ADD COLUMN billing_address TEXT;
        ALTER TABLE carts ADD COLUMN shipping_method_id TEXT;
        ALTER TABLE carts ADD COLUMN discount_codes TEXT NOT NULL DEFAULT '[]';

        CREATE TABLE shop_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE tax_rates (
            id TEXT PRIMARY KEY,
            country TEXT NOT NULL,
            region TEXT,
            rate_bp INTEGER NOT NULL CHECK (rate_bp BETWEEN 0 AND 10000),
            name TEXT,
            created_at TEXT NOT NULL
        );

        CREATE TABLE shipping_methods (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            price_amount INTEGER NOT NULL CHECK (price_amount >= 0),
            currency TEXT NOT NULL,
            countries TEXT NOT NULL,
            free_over_amount INTEGER,
            collect_location_id TEXT REFERENCES locations(id),
            created_at TEXT NOT NULL
        );

        CREATE TABLE discounts (
            id TEXT PRIMARY KEY,
            code TEXT UNIQUE COLLATE NOCASE,
            kind TEXT NOT NULL CHECK (kind IN ('percent', 'fixed', 'free_shipping')),
            value INTEGER NOT NULL,
            currency TEXT,
            customer_id TEXT,
            min_subtotal_amount INTEGER,
            min_subtotal_currency TEXT,
            max_uses INTEGER,
            max_uses_per_customer INTEGER,
            starts_at TEXT,
            ends_at TEXT,
            disabled INTEGER NOT NULL DEFAULT 0,
            uses INTEGER NOT NULL DEFAULT 0 CHECK (max_uses IS NULL OR uses <= max_uses),
            created_at TEXT NOT NULL
        );

        CREATE TABLE orders (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            number INTEGER NOT NULL UNIQUE,
            cart_id TEXT NOT NULL UNIQUE REFERENCES carts(id),
            channel TEXT NOT NULL,
            location_id TEXT REFERENCES locations(id),
            customer_id TEXT,
            email TEXT,
            status TEXT NOT NULL,
            currency TEXT NOT NULL,
            subtotal INTEGER NOT NULL,
            discount INTEGER NOT NULL,
            shipping INTEGER NOT NULL,
            tax INTEGER NOT NULL,
            total INTEGER NOT NULL CHECK (total >= 0),
            shipping_address TEXT,
            billing_address TEXT,
            shipping_method TEXT,
            discount_codes TEXT NOT NULL,
            tracking_token TEXT NOT NULL UNIQUE,
            tracking_number TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX orders_status ON orders(status, seq);
        CREATE INDEX orders_customer ON orders(customer_id, seq);
        CREATE INDEX orders_email ON orders(email COLLATE NOCASE, seq);

        CREATE TABLE order_lines (
            order_id TEXT NOT NULL REFERENCES orders(id),
            position INTEGER NOT NULL,
            sku TEXT NOT NULL,
            title TEXT NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            unit_price INTEGER NOT NULL,
            line_total INTEGER NOT NULL,
            customisation TEXT,
            allocations TEXT NOT NULL,
            PRIMARY KEY (order_id, position)
        ) WITHOUT ROWID;

        CREATE TABLE payments (
            id TEXT PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES orders(id),
            method TEXT NOT NULL,
            status TEXT NOT NULL,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            reference TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX payments_order ON payments(order_id);

        CREATE TABLE order_history (
            id INTEGER PRIMARY KEY,
            order_id TEXT NOT NULL REFERENCES orders(id),
            status TEXT NOT NULL,
            actor TEXT NOT NULL,
            note TEXT,
            tracking_number TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX order_history_order ON order_history(order_id, id);

        CREATE TABLE discount_uses (
            discount_id TEXT NOT NULL REFERENCES discounts(id),
            order_id TEXT NOT NULL REFERENCES orders(id),
            customer_key TEXT,
            PRIMARY KEY (discount_id, order_id)
        ) WITHOUT ROWID;
        CREATE INDEX discount_uses_customer ON discount_uses(discount_id, customer_key);

        CREATE TABLE pos_handovers (
            order_id TEXT PRIMARY KEY REFERENCES orders(id),
            location_id TEXT NOT NULL REFERENCES locations(id),
            pin_hash BLOB NOT NULL,
            expires_at_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            used_at TEXT
        ) WITHOUT ROWID;
        CREATE INDEX pos_handovers_location ON pos_handovers(location_id, expires_at_ms);
        """)

    /// Indexes that every cart write paid for: carts by time of last write, which no query used (the
    /// back office lists carts by rowid); carts by deadline, where only the status is ever looked up
    /// (the expiry heap keeps deadlines in memory), so a write that moves a deadline now changes no
    /// index; and events by time (pruning walks the log in `seq` order, which is time order, and
    /// stops at the first event it keeps).
    static let hotPath = Migration(version: 4, name: "hot path indexes", sql: """
        DROP INDEX carts_status_updated;
        DROP INDEX carts_status_expiry;
        CREATE INDEX carts_status ON carts(status);
        DROP INDEX events_at;
        """)

    /// Reservations by SKU, which no query reads (a cart's reservations are found by the key, which
    /// starts with the cart; a SKU's totals live in `stock_levels`): every reserve and release on a
    /// hot SKU wrote a leaf of it, one more page in the WAL per cart write.
    static let reservationPages = Migration(version: 5, name: "reservation pages", sql: """
        DROP INDEX reservations_sku;
        """)

    /// Cart lines keyed by cart and SKU, without a rowid: one B-tree, where the lines of a cart sit
    /// together on one leaf beside nothing else. Before, a line was a row in the rowid table plus an
    /// entry in two indexes (its id, and `UNIQUE (cart_id, sku)`), three pages for every line written.
    /// A cart has one line per SKU, which the key keeps; a line's id is found within its cart.
    static let cartLinePages = Migration(version: 6, name: "cart line pages", sql: """
        CREATE TABLE cart_lines_by_cart (
            cart_id TEXT NOT NULL REFERENCES carts(id),
            sku TEXT NOT NULL,
            id TEXT NOT NULL,
            position INTEGER NOT NULL,
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            customisation TEXT,
            PRIMARY KEY (cart_id, sku)
        ) WITHOUT ROWID;
        INSERT INTO cart_lines_by_cart (cart_id, sku, id, position, quantity, customisation)
            SELECT cart_id, sku, id, position, quantity, customisation FROM cart_lines;
        DROP TABLE cart_lines;
        ALTER TABLE cart_lines_by_cart RENAME TO cart_lines;
        """)

    /// The topic index without carts' own topics. Every cart write appends a `cart:<id>` event, and its
    /// entry landed beside that cart's earlier ones, a leaf of its own in an index that grows with the
    /// log: one more page in the WAL per cart write. A cart's events are read from a resume point
    /// (its client reconnecting), by `seq`; families (`carts`) never used the index. Other topics
    /// (a SKU's stock, an order's history) keep it.
    static let cartEventPages = Migration(version: 7, name: "cart event pages", sql: """
        DROP INDEX events_topic;
        CREATE INDEX events_topic ON events(topic, seq) WHERE topic NOT GLOB 'cart:*';
        """)

    /// Locations in the order every stock level lists them. The writer reads a SKU's level for each
    /// stock change (``StockLedger``), and without this index that read sorted the locations in a
    /// temporary B-tree each time: a sorter opened, filled and freed per reservation.
    static let locationOrder = Migration(version: 8, name: "location order", sql: """
        CREATE INDEX locations_listing ON locations(created_at, code);
        """)

    /// The fingerprint of the request that got each stored answer, so the same key sent with another
    /// request is refused rather than answered with the first one's result. Answers stored before have
    /// none (an empty blob), and any request with their key matches them.
    static let idempotencyFingerprints = Migration(version: 9, name: "idempotency fingerprints", sql: """
        ALTER TABLE idempotency_keys ADD COLUMN fingerprint BLOB NOT NULL DEFAULT x'';
        """)

    /// The outbox (API.md, Messages): every message with its delivery state, each attempt, and the
    /// shop's versions of the templates. `position` orders the listing, newest first; the delivery
    /// queue reads queued messages by channel and due time from a partial index that holds only them.
    static let outbox = Migration(version: 10, name: "outbox", sql: """
        CREATE TABLE messages (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
            recipient TEXT NOT NULL,
            template TEXT NOT NULL,
            subject TEXT,
            text TEXT NOT NULL,
            html TEXT,
            status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'opened', 'clicked', 'failed', 'skipped')),
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            retry_base INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            next_attempt_at_ms INTEGER,
            last_error TEXT,
            skip_reason TEXT,
            customer_id TEXT,
            order_id TEXT,
            transactional INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            sent_at TEXT
        );
        CREATE INDEX messages_due ON messages(channel, next_attempt_at_ms) WHERE status = 'queued';
        CREATE INDEX messages_by_order ON messages(order_id, position) WHERE order_id IS NOT NULL;
        CREATE INDEX messages_by_customer ON messages(customer_id, position) WHERE customer_id IS NOT NULL;
        CREATE TABLE message_attempts (
            message_id TEXT NOT NULL REFERENCES messages(id),
            number INTEGER NOT NULL,
            at TEXT NOT NULL,
            outcome TEXT NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (message_id, number)
        ) WITHOUT ROWID;
        CREATE TABLE message_templates (
            name TEXT NOT NULL,
            locale TEXT NOT NULL,
            subject TEXT,
            text TEXT NOT NULL,
            html TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (name, locale)
        ) WITHOUT ROWID;
        """)

    /// Integrator webhooks (API.md): endpoints with their sealed secrets, one delivery per endpoint and
    /// event (the pair is unique, so a dispatch run again after a crash makes nothing twice), each
    /// attempt for the delivery log, and how far the event log has been dispatched. The delivery queue
    /// reads pending deliveries by due time from a partial index that holds only them.
    static let webhooks = Migration(version: 11, name: "webhooks", sql: """
        CREATE TABLE webhook_endpoints (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            url TEXT NOT NULL,
            events TEXT NOT NULL,
            description TEXT,
            status TEXT NOT NULL CHECK (status IN ('enabled', 'disabled')),
            disabled_reason TEXT,
            start_seq INTEGER NOT NULL,
            secrets TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE webhook_dispatch (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL
        );
        CREATE TABLE webhook_deliveries (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
            event_seq INTEGER NOT NULL,
            event_type TEXT NOT NULL,
            payload TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
            retry_base INTEGER NOT NULL DEFAULT 0,
            next_attempt_at_ms INTEGER,
            last_status_code INTEGER,
            last_error TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (endpoint_id, event_seq)
        );
        CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at_ms) WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, position);
        CREATE TABLE webhook_attempts (
            delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            at TEXT NOT NULL,
            request_headers TEXT NOT NULL,
            status_code INTEGER,
            response_excerpt TEXT,
            error TEXT,
            duration_ms INTEGER NOT NULL,
            PRIMARY KEY (delivery_id, number)
        ) WITHOUT ROWID;
        """)

    /// Single-use codes the shop hands out (a receipt's code for online use): rows of `discounts`
    /// marked with what they were issued for, looked up by code through its unique index instead of
    /// being held in memory with the shop's own discounts, since there is one per till sale.
    static let issuedDiscounts = Migration(version: 12, name: "issued discounts", sql: """
        ALTER TABLE discounts ADD COLUMN issued_for TEXT;
        """)

    /// SMS and push: templates' short part, a push message's link, and the browsers and apps that
    /// asked for push (RFC 8030 subscriptions), each tied to a cart, an order or a visitor. An endpoint
    /// is one subscription: subscribing again replaces its keys and adds to what it follows.
    static let shortMessages = Migration(version: 13, name: "short messages and push", sql: """
        ALTER TABLE message_templates ADD COLUMN short TEXT;
        ALTER TABLE messages ADD COLUMN link TEXT;
        CREATE TABLE push_subscriptions (
            id TEXT PRIMARY KEY,
            endpoint TEXT NOT NULL UNIQUE,
            p256dh TEXT NOT NULL,
            auth TEXT NOT NULL,
            visitor TEXT,
            customer_id TEXT,
            cart_id TEXT,
            order_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX push_subscriptions_by_cart ON push_subscriptions(cart_id) WHERE cart_id IS NOT NULL;
        CREATE INDEX push_subscriptions_by_order ON push_subscriptions(order_id) WHERE order_id IS NOT NULL;
        """)

    /// Addresses messages no longer go to (hard bounces), one row per address and channel; email
    /// addresses compare without regard to case.
    static let suppressions = Migration(version: 14, name: "suppressions", sql: """
        CREATE TABLE suppressions (
            address TEXT NOT NULL COLLATE NOCASE,
            channel TEXT NOT NULL,
            reason TEXT NOT NULL,
            detail TEXT NOT NULL,
            message_id TEXT,
            created_at TEXT NOT NULL,
            PRIMARY KEY (address, channel)
        ) WITHOUT ROWID;
        """)

    /// Customers (API.md, Customers): one row per person with the stats and preferences kept current
    /// as orders happen (`preferences` holds unit counts per category and per attribute value), their
    /// tags in a table of their own so a segment's `tag` is an index lookup, full-text search over
    /// name, email, phone, tags and note (its rowid is the customer's `seq`), consent as it stands and
    /// its append-only ledger, one row per order line bought (what `bought` and `bought_at_location`
    /// segments read through their indexes), products viewed (fed by live shoppers), an audit of
    /// merges and erasures, shopper sign-in codes and sessions (hashes only), and segments. Carts and
    /// orders gain a phone, and carts an index by customer for a customer's open carts. The search
    /// index keeps a doclist for every prefix of 2 to 6 characters: a prefix query then reads one
    /// doclist newest first and stops at the page's end, where without it FTS5 merges the doclists of
    /// every term with that prefix (thousands of customers named Isaac) before taking 20, about nine
    /// times the work at a million customers (docs/BENCHMARKS.md).
    static let customers = Migration(version: 15, name: "customers", sql: """
        CREATE TABLE customers (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            email TEXT UNIQUE,
            phone TEXT UNIQUE,
            first_name TEXT,
            last_name TEXT,
            tags TEXT NOT NULL DEFAULT '[]',
            note TEXT,
            locale TEXT,
            timezone TEXT,
            addresses TEXT NOT NULL DEFAULT '[]',
            has_account INTEGER NOT NULL DEFAULT 0,
            orders_count INTEGER NOT NULL DEFAULT 0,
            total_spent INTEGER NOT NULL DEFAULT 0,
            first_order_at TEXT,
            last_order_at TEXT,
            preferences TEXT NOT NULL DEFAULT '{}',
            erased_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE customer_tags (
            tag TEXT NOT NULL COLLATE NOCASE,
            customer_seq INTEGER NOT NULL REFERENCES customers(seq) ON DELETE CASCADE,
            PRIMARY KEY (tag, customer_seq)
        ) WITHOUT ROWID;
        CREATE INDEX customer_tags_customer ON customer_tags(customer_seq);
        CREATE VIRTUAL TABLE customer_search USING fts5(
            name, email, phone, tags, note,
            tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5 6'
        );
        CREATE TABLE customer_consent (
            customer_seq INTEGER NOT NULL REFERENCES customers(seq) ON DELETE CASCADE,
            channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
            state TEXT NOT NULL CHECK (state IN ('subscribed', 'unsubscribed', 'not_subscribed')),
            level TEXT,
            source TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (customer_seq, channel)
        ) WITHOUT ROWID;
        CREATE INDEX customer_consent_state ON customer_consent(channel, state, customer_seq);
        CREATE TABLE consent_ledger (
            id INTEGER PRIMARY KEY,
            customer_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            state TEXT NOT NULL,
            level TEXT,
            source TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX consent_ledger_customer ON consent_ledger(customer_id, id);
        CREATE TABLE customer_purchases (
            order_seq INTEGER NOT NULL,
            line INTEGER NOT NULL,
            customer_seq INTEGER NOT NULL,
            sku TEXT NOT NULL,
            product_id TEXT,
            category TEXT,
            location TEXT,
            quantity INTEGER NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (order_seq, line)
        ) WITHOUT ROWID;
        CREATE INDEX customer_purchases_sku ON customer_purchases(sku, at, customer_seq, order_seq);
        CREATE INDEX customer_purchases_product ON customer_purchases(product_id, at, customer_seq, order_seq);
        CREATE INDEX customer_purchases_category ON customer_purchases(category, at, customer_seq, order_seq);
        CREATE INDEX customer_purchases_location ON customer_purchases(location, at, customer_seq);
        CREATE TABLE customer_views (
            customer_seq INTEGER NOT NULL,
            product_id TEXT NOT NULL,
            category TEXT,
            at TEXT NOT NULL
        );
        CREATE INDEX customer_views_customer ON customer_views(customer_seq, at);
        CREATE INDEX customer_views_product ON customer_views(product_id, customer_seq);
        CREATE INDEX customer_views_category ON customer_views(category, customer_seq);
        CREATE TABLE customer_audit (
            id INTEGER PRIMARY KEY,
            customer_id TEXT NOT NULL,
            action TEXT NOT NULL,
            actor TEXT NOT NULL,
            detail TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX customer_audit_customer ON customer_audit(customer_id, id);
        CREATE TABLE sign_in_codes (
            email TEXT PRIMARY KEY,
            code_hash BLOB NOT NULL,
            expires_at_ms INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            used INTEGER NOT NULL DEFAULT 0,
            window_start_ms INTEGER NOT NULL,
            issued INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE customer_sessions (
            token_hash BLOB PRIMARY KEY,
            customer_id TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX customer_sessions_customer ON customer_sessions(customer_id);
        CREATE TABLE segments (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            filter TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        ALTER TABLE carts ADD COLUMN phone TEXT;
        ALTER TABLE orders ADD COLUMN phone TEXT;
        CREATE INDEX carts_customer ON carts(customer_id) WHERE customer_id IS NOT NULL;
        """)

    /// Visitors (a browser or app install) with the customer they turned out to be and their last
    /// stage; their activity, kept like the event log; conversations with live shoppers; and offers,
    /// issued discount codes that may be bound to one cart.
    static let liveShoppers = Migration(version: 16, name: "live shoppers", sql: """
        CREATE TABLE visitors (
            id TEXT PRIMARY KEY,
            customer_seq INTEGER,
            stage TEXT NOT NULL DEFAULT 'browsing',
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX visitors_customer ON visitors(customer_seq) WHERE customer_seq IS NOT NULL;
        CREATE TABLE activity (
            id INTEGER PRIMARY KEY,
            visitor TEXT NOT NULL,
            type TEXT NOT NULL,
            product_id TEXT,
            category TEXT,
            data TEXT NOT NULL,
            at TEXT NOT NULL
        );
        CREATE INDEX activity_visitor ON activity(visitor, id);
        CREATE TABLE conversations (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            visitor TEXT NOT NULL,
            customer_seq INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE INDEX conversations_visitor ON conversations(visitor);
        CREATE INDEX conversations_customer ON conversations(customer_seq) WHERE customer_seq IS NOT NULL;
        CREATE TABLE conversation_messages (
            conversation_id TEXT NOT NULL,
            n INTEGER NOT NULL,
            sender TEXT NOT NULL CHECK (sender IN ('shop', 'shopper')),
            author TEXT,
            text TEXT,
            offer_code TEXT,
            at TEXT NOT NULL,
            PRIMARY KEY (conversation_id, n)
        ) WITHOUT ROWID;
        ALTER TABLE discounts ADD COLUMN cart_id TEXT;
        ALTER TABLE discounts ADD COLUMN accepted_at TEXT;
        """)

    /// Which visitors are live: a server that stopped without their `shopper.left` writes it when it
    /// starts again, so an admin resuming the `shoppers` topic with `since` sees them go.
    static let visitorsLive = Migration(version: 17, name: "visitors live", sql: """
        ALTER TABLE visitors ADD COLUMN live INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX visitors_live ON visitors(id) WHERE live = 1;
        """)

    /// Automation (API.md, Automation): durable timers, fired in due order; flows with every version
    /// a run may still be on; runs with where they stand (one per flow and entry key, so an entry made
    /// again after a crash is the same run); counters per flow step; staff tasks; how far the event log
    /// has been read for triggers and exits; and the run and step each marketing message came from.
    static let automation = Migration(version: 18, name: "automation", sql: """
        CREATE TABLE timers (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            ref TEXT NOT NULL,
            due_ms INTEGER NOT NULL
        );
        CREATE INDEX timers_due ON timers(due_ms, id);
        CREATE TABLE flows (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'draft')),
            version INTEGER NOT NULL,
            active_since INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE flow_versions (
            flow_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            definition TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (flow_id, version)
        ) WITHOUT ROWID;
        CREATE TABLE flow_runs (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            flow_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            entry_key TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'exited')),
            customer_id TEXT,
            cart_id TEXT,
            order_id TEXT,
            state TEXT NOT NULL,
            awaiting_message TEXT,
            next_at TEXT,
            exit_reason TEXT,
            entered_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            UNIQUE (flow_id, entry_key)
        );
        CREATE INDEX flow_runs_flow ON flow_runs(flow_id, seq);
        CREATE INDEX flow_runs_active ON flow_runs(flow_id) WHERE status = 'active';
        CREATE INDEX flow_runs_customer ON flow_runs(customer_id) WHERE status = 'active' AND customer_id IS NOT NULL;
        CREATE INDEX flow_runs_cart ON flow_runs(cart_id) WHERE status = 'active' AND cart_id IS NOT NULL;
        CREATE INDEX flow_runs_awaiting ON flow_runs(awaiting_message) WHERE awaiting_message IS NOT NULL;
        CREATE TABLE flow_stats (
            flow_id TEXT NOT NULL,
            step TEXT NOT NULL,
            counter TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (flow_id, step, counter)
        ) WITHOUT ROWID;
        CREATE TABLE tasks (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            text TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'done')),
            customer_id TEXT,
            order_id TEXT,
            flow_id TEXT,
            run_id TEXT,
            created_at TEXT NOT NULL,
            done_at TEXT,
            done_by TEXT
        );
        CREATE INDEX tasks_status ON tasks(status, position);
        CREATE TABLE automation_mark (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL
        );
        ALTER TABLE messages ADD COLUMN run_id TEXT;
        ALTER TABLE messages ADD COLUMN flow_id TEXT;
        ALTER TABLE messages ADD COLUMN step TEXT;
        CREATE INDEX messages_by_run ON messages(run_id) WHERE run_id IS NOT NULL;
        CREATE INDEX push_subscriptions_by_customer ON push_subscriptions(customer_id) WHERE customer_id IS NOT NULL;
        CREATE INDEX messages_marketing ON messages(customer_id, channel, position) WHERE transactional = 0 AND customer_id IS NOT NULL;
        """)

    /// Engagement, attribution and campaigns (API.md, Automation): when a message was first opened
    /// and clicked (its tracked links) and the campaign that sent it; what became of each flow step's
    /// or campaign's messages, counted as it happens; one row per order credited to the message that
    /// led to it; and campaigns with how far through their segment they are.
    static let engagement = Migration(version: 19, name: "engagement and campaigns", sql: """
        ALTER TABLE messages ADD COLUMN opened_at TEXT;
        ALTER TABLE messages ADD COLUMN clicked_at TEXT;
        ALTER TABLE messages ADD COLUMN campaign_id TEXT;
        CREATE INDEX messages_by_campaign ON messages(campaign_id) WHERE campaign_id IS NOT NULL;
        CREATE TABLE message_outcomes (
            source TEXT NOT NULL,
            step TEXT NOT NULL,
            outcome TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (source, step, outcome)
        ) WITHOUT ROWID;
        CREATE TABLE campaigns (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            segment_id TEXT NOT NULL,
            channel TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'push')),
            template TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'sent', 'cancelled')),
            send_at TEXT NOT NULL,
            cursor INTEGER NOT NULL DEFAULT 0,
            recipients INTEGER NOT NULL DEFAULT 0,
            passed_over TEXT NOT NULL DEFAULT '{}',
            started_at TEXT,
            finished_at TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE attributions (
            order_id TEXT PRIMARY KEY,
            message_id TEXT NOT NULL,
            flow_id TEXT,
            run_id TEXT,
            step TEXT,
            amount INTEGER NOT NULL,
            currency TEXT NOT NULL,
            at TEXT NOT NULL
        ) WITHOUT ROWID;
        """)

    /// Stock cover (API.md, Automation): units sold per SKU, location and day (kept as orders are
    /// placed and given back when they are cancelled), each product's lead time, and which SKUs at
    /// which locations are below theirs (so crossing below alerts once).
    static let stockCover = Migration(version: 20, name: "stock cover", sql: """
        CREATE TABLE sku_sales (
            sku TEXT NOT NULL,
            location TEXT NOT NULL,
            day TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            PRIMARY KEY (sku, location, day)
        ) WITHOUT ROWID;
        CREATE INDEX sku_sales_day ON sku_sales(day);
        ALTER TABLE products ADD COLUMN lead_time_days INTEGER;
        CREATE TABLE low_cover (
            sku TEXT NOT NULL,
            location TEXT NOT NULL,
            since TEXT NOT NULL,
            PRIMARY KEY (sku, location)
        ) WITHOUT ROWID;
        """)

    /// Replenishment (API.md, Automation): products' intervals; a customer's purchases by customer,
    /// which the weekly run reads a batch of customers at a time; items a customer put off or wished
    /// for; proposals (one per customer per run); and the runs with their cursors.
    static let replenishment = Migration(version: 21, name: "replenishment", sql: """
        ALTER TABLE products ADD COLUMN replenish_days INTEGER;
        CREATE INDEX customer_purchases_customer ON customer_purchases(customer_seq, sku, at);
        CREATE TABLE replenishment_items (
            customer_seq INTEGER NOT NULL,
            sku TEXT NOT NULL,
            snoozed_until TEXT,
            wishlist INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (customer_seq, sku)
        ) WITHOUT ROWID;
        CREATE TABLE proposals (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            customer_id TEXT NOT NULL,
            run_key TEXT NOT NULL,
            items TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'postponed', 'wishlisted', 'expired')),
            cart_id TEXT,
            order_id TEXT,
            created_at TEXT NOT NULL,
            decided_at TEXT,
            expires_at TEXT NOT NULL,
            UNIQUE (customer_id, run_key)
        );
        CREATE TABLE replenishment_runs (
            key TEXT PRIMARY KEY,
            cursor INTEGER NOT NULL DEFAULT 0,
            proposals INTEGER NOT NULL DEFAULT 0,
            customers INTEGER NOT NULL DEFAULT 0,
            started_at TEXT NOT NULL,
            finished_at TEXT
        ) WITHOUT ROWID;
        """)

    /// A customer's purchases by customer with their quantities in the index, so the weekly run reads
    /// a batch of customers' purchases from the index alone (a lookup into the table per purchase was
    /// most of its reading).
    static let replenishmentIndex = Migration(version: 22, name: "replenishment index", sql: """
        DROP INDEX customer_purchases_customer;
        CREATE INDEX customer_purchases_customer ON customer_purchases(customer_seq, sku, at, quantity);
        """)

    /// The wishlists holding a SKU (`wishlist` 1: wished while in stock, 2: sold out since), found as
    /// its stock changes.
    static let wishlist = Migration(version: 23, name: "wishlist", sql: """
        CREATE INDEX replenishment_wishlist ON replenishment_items(sku, wishlist, customer_seq) WHERE wishlist > 0;
        """)

    /// Proposals unique by (run, customer seq) rather than (customer id, run): the weekly run goes
    /// through customers by seq, so its inserts append to the index instead of landing on a random
    /// page each (with 435,000 proposals a run, the dirty pages' WAL traffic slowed the carts beside
    /// it). Existing rows keep their customer's seq.
    static let proposalOrder = Migration(version: 24, name: "proposal order", sql: """
        CREATE TABLE proposals_new (
            position INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            customer_seq INTEGER NOT NULL,
            customer_id TEXT NOT NULL,
            run_key TEXT NOT NULL,
            items TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('open', 'confirmed', 'postponed', 'wishlisted', 'expired')),
            cart_id TEXT,
            order_id TEXT,
            created_at TEXT NOT NULL,
            decided_at TEXT,
            expires_at TEXT NOT NULL,
            UNIQUE (run_key, customer_seq)
        );
        INSERT INTO proposals_new (position, id, customer_seq, customer_id, run_key, items, status, cart_id, order_id, created_at, decided_at, expires_at)
            SELECT p.position, p.id, coalesce(c.seq, -p.position), p.customer_id, p.run_key, p.items, p.status, p.cart_id, p.order_id, p.created_at,
                p.decided_at, p.expires_at
            FROM proposals p LEFT JOIN customers c ON c.id = p.customer_id;
        DROP TABLE proposals;
        ALTER TABLE proposals_new RENAME TO proposals;
        """)

    /// Staff signed in to the pages: an API key exchanged for a cookie's session (its token's hash).
    static let staffSessions = Migration(version: 25, name: "staff sessions", sql: """
        CREATE TABLE staff_sessions (
            token_hash BLOB PRIMARY KEY,
            key_id TEXT NOT NULL,
            csrf_token TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at_ms INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX staff_sessions_expiry ON staff_sessions(expires_at_ms);
        """)

    /// Whether a cart's customer was set by a staff key or by that customer's own session: a discount
    /// bound to a customer applies only then, not to a cart anyone named them on.
    static let vouchedCustomers = Migration(version: 26, name: "vouched customers", sql: """
        ALTER TABLE carts ADD COLUMN customer_verified INTEGER NOT NULL DEFAULT 0;
        """)

    /// Catalogue search moved to an index in memory, loaded at start from `products` and `variants`
    /// (a storefront's every-keystroke queries were 2–10 ms each in FTS5); its FTS5 table goes.
    static let productSearchInMemory = Migration(version: 27, name: "product search in memory", sql: """
        DROP TABLE product_search;
        """)
}
