#!/usr/bin/env python3
"""Customers at scale (issue 24), against a release Shopfloor: search, a segment's count, the CSV export.

    bench/customers.py [--customers 1000000] [--orders 3000000] [--products 2000] [--duration 20]
                       [--connections 64] [--phases search,segment,export] [--binary .build/release/shopfloor]
                       [--cache-dir .build/bench-customers] [--seed 24]
    bench/customers.py --load-only FILE [--customers N] [--orders M] [--check]

1. Schema: starts the server once on an empty data dir, so its own migrations make the schema, and
   stops it. The schema's fingerprint (sqlite_master and the last migration) keys the cache below.
2. Seed (bulk path, no HTTP): copies that empty database and fills it with Python's sqlite3 in one
   transaction: --products products in 20 categories (variants with size and colour attributes, stock
   at three locations), --customers customers (names from word lists, unique emails, ~60 % with E.164
   phones, tags on ~30 %, notes on ~5 %, consent on ~40 %, with search rows and tags), and --orders
   orders over the last year (online and till, each with its completed cart, lines, and one
   `customer_purchases` row per line), the customers' stats and preferences summed from them. The
   secondary indexes of the loaded tables are dropped first and made again afterwards from their own
   SQL in sqlite_master, so the schema is the server's, byte for byte. The result is kept in
   --cache-dir under a name made of the sizes, the seed and the schema's fingerprint, so a rerun skips
   the seeding (a million customers take minutes); a cached copy for an older schema is removed.
3. Measures, on a fresh copy, with the server started with an admin key:
   a. search: GET /v1/customers?q=…&limit=20 over varied queries (a name prefix, first name and a
      surname prefix, an email prefix, phone digits) with wrk (closed loop, --connections keep-alive
      connections, --duration seconds; a Python asyncio client when wrk is missing): req/s, p50, p99,
      max. Before it, 100 queries of each kind one at a time: how many found someone, p50 and max.
   b. segment: POST /v1/segments with five conditions (total spent, orders count, bought a category
      in the last 180 days, a tag, last order in the last year), then GET /v1/segments/{id} (which
      counts) 5 times: first, best and median; the count is checked against the same query run
      directly on the database file. The same again with `consent: email` in place of the tag.
   c. export: GET /v1/customers/export (everyone), read as it streams: rows/s, and the server's
      VmRSS (and RssAnon) sampled every 10 ms from before the request to a second after: growth in MB.
      Then the export of the first segment.
   Prints a markdown table (with the issue's targets) and one JSON line.

With --load-only FILE no server runs: FILE must already hold the schema (a data dir's
shopfloor.sqlite that a server made); it is filled as in step 2. --check then verifies the stats,
search rows, tags and purchases against the orders, and SQLite's integrity and foreign key checks.
Loopback only; stops by itself; the run's copy of the database is removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from array import array
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "shopfloor.sqlite"  # Sources/ShopfloorStorage/Database.swift
CURRENCY = "GBP"
DAY = 86_400
YEAR = 365 * DAY

# --- Vocabulary ------------------------------------------------------------------------------------

FIRST_NAMES = """olivia amelia isla ava mia ivy lily isabella rosie sophia grace willow freya florence emily ella poppy evie
elsie charlotte evelyn sienna daisy sophie alice harper matilda ruby emilia maya millie phoebe sofia jessica chloe hannah
sarah emma lucy laura rebecca katie amy zoe megan holly eleanor georgia lauren abigail mary patricia jennifer susan
margaret helen karen joanne nicola claire louise rachel victoria priya aisha fatima zainab amira noor leila mariam
oliver george noah arthur harry leo muhammad jack charlie oscar jacob henry thomas freddie alfie theo william theodore
archie joshua alexander james isaac edward lucas tommy finley max logan ethan mohammed teddy benjamin arlo joseph
daniel samuel david michael john robert richard paul mark andrew stephen christopher matthew adam ryan luke callum
liam connor dylan nathan jamie kieran aaron ben sam tom dan rohan arjun omar yusuf ibrahim hamza ali kofi tomasz piotr
jakub mateusz zoë chloé josé renée""".split()
LAST_NAMES = """smith jones taylor brown williams wilson johnson davies robinson wright thompson evans walker white roberts
green hall wood jackson clarke patel khan lewis james phillips mason mitchell rose davis rodriguez cox alexander
morgan moore hughes edwards hill harris martin cooper ward turner lee king parker baker carter young allen scott
morris price bennett griffiths shaw adams lloyd harrison kelly murphy cook richardson ellis fisher bailey marshall
palmer matthews holmes russell gray dixon powell webb collins stevens hunt knight barker watson foster chapman
campbell butler mills simpson payne rogers owen jenkins stewart graham reid lawrence fletcher andrews hunter kaur
singh ahmed ali hussain begum akhtar rahman islam malik iqbal shah choudhury mahmood nowak kowalski wiśniewski
lewandowski o'brien o'connor mcdonald macdonald mckenzie murray ross gordon fraser burns hamilton robertson
thomson grant wallace wells chambers kent dawson barnes hudson pearce lowe hart sutton
francis doyle nolan quinn byrne walsh ryan sullivan brennan kavanagh fitzgerald""".split()
EMAIL_DOMAINS = [("gmail.com", 35), ("hotmail.co.uk", 12), ("outlook.com", 10), ("icloud.com", 10), ("yahoo.co.uk", 8),
                 ("hotmail.com", 6), ("btinternet.com", 5), ("live.co.uk", 4), ("sky.com", 3), ("aol.com", 2),
                 ("googlemail.com", 2), ("protonmail.com", 1), ("me.com", 1), ("virginmedia.com", 1)]
TAGS = [("newsletter", 30), ("loyalty", 25), ("vip", 12), ("wholesale", 8), ("trade", 7), ("returning", 10),
        ("staff", 2), ("press", 1), ("b2b", 4), ("gift-card", 5)]
NOTES = ["prefers delivery after 5pm", "allergic to wool, check fabric", "called about a late parcel", "regular at the market stall",
         "wants to hear about new ceramics", "trade account pending paperwork", "returned two items in a row, check fit",
         "birthday in march, send a voucher", "asked for gift wrapping every time", "collects from the main store on saturdays",
         "left a lovely review", "lost parcel refunded once", "interested in bulk orders for a cafe", "speaks welsh",
         "prefers phone calls to email"]
STREETS = ["high street", "station road", "church lane", "victoria road", "green lane", "mill lane", "park avenue", "queens road",
           "new road", "kings road", "the crescent", "manor road", "school lane", "london road", "north street", "albert road"]
CITIES = [("London", "E1"), ("Manchester", "M4"), ("Birmingham", "B5"), ("Leeds", "LS1"), ("Glasgow", "G2"), ("Bristol", "BS1"),
          ("Liverpool", "L1"), ("Sheffield", "S1"), ("Edinburgh", "EH1"), ("Cardiff", "CF10"), ("Leicester", "LE1"),
          ("Nottingham", "NG1"), ("Newcastle upon Tyne", "NE1"), ("Brighton", "BN1"), ("York", "YO1"), ("Norwich", "NR1"),
          ("Oxford", "OX1"), ("Cambridge", "CB2"), ("Bath", "BA1"), ("Exeter", "EX1")]
ADJECTIVES = ["linen", "oak", "woven", "glazed", "classic", "heritage", "coastal", "soft", "handmade", "recycled", "organic", "slim",
              "relaxed", "waxed", "speckled", "brushed", "striped", "quilted", "chunky", "vintage", "everyday", "merino", "canvas"]

APPAREL_SIZES = ["XS", "S", "M", "L", "XL"]
SHOE_SIZES = ["37", "38", "39", "40", "41", "42", "43", "44", "45"]
COLOURS = ["black", "white", "navy", "grey", "red", "green", "ochre", "blue", "pink", "natural"]
SIZE_VALUES = APPAREL_SIZES + SHOE_SIZES
# Category, share of products, price range (minor units), sizes, colours, nouns.
CATEGORIES = [
    ("shoes", 8, (3500, 14000), SHOE_SIZES, True, ["trainer", "boot", "loafer", "sandal", "plimsoll"]),
    ("dresses", 6, (3000, 12000), APPAREL_SIZES, True, ["dress", "pinafore", "shirt dress"]),
    ("shirts", 7, (2000, 6000), APPAREL_SIZES, True, ["shirt", "blouse", "overshirt"]),
    ("knitwear", 6, (3500, 11000), APPAREL_SIZES, True, ["jumper", "cardigan", "tank"]),
    ("outerwear", 4, (6000, 25000), APPAREL_SIZES, True, ["jacket", "coat", "gilet"]),
    ("trousers", 5, (3000, 9000), APPAREL_SIZES, True, ["trouser", "jean", "chino", "short"]),
    ("accessories", 6, (800, 4000), None, True, ["scarf", "hat", "belt", "glove", "sock"]),
    ("bags", 4, (2500, 15000), None, True, ["tote", "backpack", "holdall", "purse"]),
    ("jewellery", 4, (1500, 9000), None, False, ["ring", "necklace", "earring", "bracelet"]),
    ("kitchen", 7, (600, 6000), None, True, ["mug", "bowl", "plate", "jug", "teapot"]),
    ("home", 6, (1500, 12000), None, True, ["cushion", "throw", "vase", "lamp", "mirror"]),
    ("textiles", 4, (1200, 8000), None, True, ["tea towel", "napkin", "tablecloth", "apron"]),
    ("garden", 4, (800, 7000), None, False, ["planter", "trowel", "seed kit", "watering can"]),
    ("stationery", 5, (300, 2500), None, True, ["notebook", "card", "pen", "journal"]),
    ("toys", 4, (800, 5000), None, False, ["puzzle", "bear", "kite", "game"]),
    ("lighting", 3, (2500, 18000), None, True, ["pendant", "table lamp", "candle"]),
    ("bath", 4, (500, 4000), None, False, ["soap", "towel", "bath salt", "brush"]),
    ("beauty", 4, (800, 6000), None, False, ["balm", "oil", "serum", "cream"]),
    ("books", 5, (800, 3500), None, False, ["cookbook", "novel", "field guide", "sketchbook"]),
    ("pets", 4, (500, 4500), None, True, ["lead", "collar", "pet bed", "bowl"]),
]
# Slots per customer in the preference counters: categories, then size values, then colours.
PREF_SLOTS = len(CATEGORIES) + len(SIZE_VALUES) + len(COLOURS)
LOCATIONS = [("main", "Main store", "store", 1), ("store-2", "Second store", "store", 0), ("warehouse", "Warehouse", "warehouse", 1)]

# Tables this script fills; their secondary indexes are made again after the load.
LOADED_TABLES = ["products", "variants", "stock_levels", "customers", "customer_tags", "customer_consent", "consent_ledger",
                 "customer_purchases", "orders", "order_lines", "carts"]


def log(message: str) -> None:
    print(f"customers.py: {message}", file=sys.stderr, flush=True)


def mix(n: int, salt: int) -> int:
    """64 bits that look random, from a counter: the tail of an id whose head keeps ids in insertion order."""
    x = (n * 0x9E3779B97F4A7C15 + salt) & 0xFFFFFFFFFFFFFFFF
    x ^= x >> 31
    x = (x * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 29)


def make_id(prefix: str, n: int, salt: int) -> str:
    # 26 characters of Crockford's lowercase alphabet (hex digits are a subset), like `SecureRandom.base32(16)`.
    # The counter first, so the unique indexes of these ids are appended to rather than written all over.
    return f"{prefix}_{n:010x}{mix(n, salt):016x}"


_days: dict[int, str] = {}


def stamp(t: int) -> str:
    """`YYYY-MM-DDTHH:MM:SSZ`, the stored form (Timestamp.string)."""
    day, second = divmod(t, DAY)
    text = _days.get(day)
    if text is None:
        text = _days[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * DAY))
    return f"{text}{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"


def ascii_fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isascii() and c.isalnum())


def zipf_cum(n: int, s: float, offset: float = 1.0) -> list[float]:
    cum, total = [], 0.0
    for rank in range(n):
        total += 1.0 / (rank + offset) ** s
        cum.append(total)
    return cum


# --- The bulk load ---------------------------------------------------------------------------------

def load(db_path: Path, customers: int, orders: int, products: int, seed: int, now: int) -> dict:
    """Fills the (empty, migrated) database at db_path. Returns the seed's facts for meta.json."""
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    t_all = time.time()
    db = sqlite3.connect(db_path, isolation_level=None)
    version = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
    names = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = {"customers", "customer_search", "customer_purchases", "customer_tags", "customer_consent", "segments"} - names
    if missing:
        raise SystemExit(f"customers.py: the schema (migration {version}) has no {', '.join(sorted(missing))}: a binary without issue 24's migration?")
    if db.execute("SELECT count(*) FROM customers").fetchone()[0] or db.execute("SELECT count(*) FROM orders").fetchone()[0]:
        raise SystemExit(f"customers.py: {db_path} already holds customers or orders; the loader wants a fresh schema")
    mode = db.execute("PRAGMA journal_mode = OFF").fetchone()[0]
    if mode != "off":
        raise SystemExit(f"customers.py: could not leave {mode} journal mode (is a server still using {db_path}?)")
    for pragma in ("synchronous = OFF", "locking_mode = EXCLUSIVE", "cache_size = -2097152", "temp_store = MEMORY",
                   "secure_delete = OFF", "foreign_keys = OFF"):
        db.execute(f"PRAGMA {pragma}")
    db.execute("BEGIN")
    indexes = db.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({','.join('?' * len(LOADED_TABLES))})"
        " ORDER BY rowid", LOADED_TABLES).fetchall()
    for name, _ in indexes:
        db.execute(f'DROP INDEX "{name}"')

    # Locations: the main store exists (migration 1); a second store and a warehouse.
    t0 = time.time()
    created = stamp(now - YEAR - 60 * DAY)
    # Listed (and allocated from) after the main store, which the migration made when the server first ran.
    location_created = stamp(now)
    location_ids = {code: db.execute("SELECT id FROM locations WHERE code = ?", (code,)).fetchone() for code, *_ in LOCATIONS}
    for n, (code, name, kind, online) in enumerate(LOCATIONS):
        if location_ids[code] is None:
            location_ids[code] = (make_id("loc", n + 1, 11),)
            db.execute("INSERT INTO locations (id, code, name, kind, fulfils_online, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (location_ids[code][0], code, name, kind, online, location_created))
    location_ids = {code: row[0] for code, row in location_ids.items()}

    # Catalogue: products with 1..n variants (size × colour where the category has them), FTS rows, stock.
    category_weights = [c[1] for c in CATEGORIES]
    variants = []  # (sku, product_id, category index, title, price, size slot or -1, colour slot or -1)
    product_rows, variant_rows, search_rows, stock_rows = [], [], [], []
    for p in range(1, products + 1):
        ci = rng.choices(range(len(CATEGORIES)), weights=category_weights)[0]
        category, _, (low, high), sizes, coloured, nouns = CATEGORIES[ci]
        pid = make_id("prod", p, 12)
        noun = rng.choice(nouns)
        title = f"{rng.choice(ADJECTIVES).capitalize()} {noun}"
        price = rng.randrange(low, high, 50) - 1 if high - low > 100 else low
        tags = [category] + ([rng.choice(["new", "sale", "bestseller", "gift"])] if rng.random() < 0.3 else [])
        product_rows.append((p, pid, title, f"A {title.lower()} from our {category} range.", category, json.dumps(tags, separators=(",", ":")),
                             "active", created, created))
        size_choice = rng.sample(sizes, k=min(len(sizes), rng.choice([3, 4, 5]))) if sizes else [None]
        colour_choice = rng.sample(COLOURS, k=rng.choice([1, 2, 3])) if coloured else [None]
        skus = []
        position = 0
        for size in size_choice:
            for colour in colour_choice:
                position += 1
                sku = f"SKU-{p:06d}-{position:02d}"
                attributes = {k: v for k, v in (("size", size), ("colour", colour)) if v is not None}
                vtitle = " / ".join(v for v in (size, colour) if v) or None
                variant_rows.append((make_id("var", len(variant_rows) + 1, 13), p, position, sku, vtitle, price, CURRENCY,
                                     json.dumps(attributes, separators=(",", ":")), f"50{p:06d}{position:02d}0", None))
                variants.append((sku, pid, ci, f"{title} {vtitle}" if vtitle else title, price,
                                 len(CATEGORIES) + SIZE_VALUES.index(size) if size else -1,
                                 len(CATEGORIES) + len(SIZE_VALUES) + COLOURS.index(colour) if colour else -1))
                skus.append(sku)
                for code in location_ids:
                    stock_rows.append((sku, location_ids[code], rng.randrange(20, 500), 0))
        search_rows.append((p, title, product_rows[-1][3], " ".join(tags), " ".join(skus)))
    db.executemany("INSERT INTO products (seq, id, title, description, category, tags, images, status, created_at, updated_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, '[]', ?, ?, ?)", product_rows)
    db.executemany("INSERT INTO variants (id, product_seq, position, sku, title, price_amount, price_currency, attributes, barcode,"
                   " low_stock_threshold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", variant_rows)
    db.executemany("INSERT INTO product_search (rowid, title, description, tags, skus) VALUES (?, ?, ?, ?, ?)", search_rows)
    db.executemany("INSERT INTO stock_levels (sku, location_id, on_hand, reserved) VALUES (?, ?, ?, ?)", stock_rows)
    timings["catalogue_s"] = time.time() - t0

    # Popularity of variants (Zipf over a shuffled order), overall and within each category.
    order_of = list(range(len(variants)))
    rng.shuffle(order_of)
    weight = [0.0] * len(variants)
    for rank, v in enumerate(order_of):
        weight[v] = 1.0 / (rank + 5) ** 0.9
    def cumulative(members):
        total, cum = 0.0, []
        for v in members:
            total += weight[v]
            cum.append(total)
        return members, cum
    all_variants = cumulative(list(range(len(variants))))
    by_category = [cumulative([v for v in range(len(variants)) if variants[v][2] == ci]) for ci in range(len(CATEGORIES))]

    # Who orders how much: 80 % of customers buy, each with a lognormal propensity; the rest signed up,
    # gave consent at a till or were imported, and have not ordered (yet).
    t0 = time.time()
    propensity = [rng.lognormvariate(0, 1.0) if rng.random() < 0.8 else 0.0 for _ in range(customers)]
    cum, total = [], 0.0
    for p in propensity:
        total += p
        cum.append(total)
    del propensity
    who = rng.choices(range(customers), cum_weights=cum, k=orders)
    del cum
    # Order times over the last year, a little busier lately; then in time order (seq, number).
    when = sorted(now - 60 - int(YEAR * rng.random() ** 1.15) for _ in range(orders))
    first_order = array("q", [-1]) * customers
    for c, t in zip(who, when):
        if first_order[c] < 0:
            first_order[c] = t
    # Customers are numbered in the order they were created: before their first order, or any time in
    # the shop's life (a year and two months) for those who have not ordered.
    start = now - YEAR - 60 * DAY
    created_at = array("q", (first_order[c] - int(rng.random() ** 2 * 45 * DAY) if first_order[c] >= 0
                             else start + int((now - start - 3600) * rng.random()) for c in range(customers)))
    for c in range(customers):
        if created_at[c] < start:
            created_at[c] = start + rng.randrange(3600)
    by_creation = sorted(range(customers), key=created_at.__getitem__)
    seq_of = array("q", [0]) * customers
    for rank, c in enumerate(by_creation):
        seq_of[c] = rank + 1
    timings["plan_s"] = time.time() - t0

    # Who they are (indexed by customer, not seq): names, email, phone, address, favourite category.
    t0 = time.time()
    first_cum, last_cum = zipf_cum(len(FIRST_NAMES), 0.9, 3), zipf_cum(len(LAST_NAMES), 0.9, 3)
    firsts = rng.choices(FIRST_NAMES, cum_weights=first_cum, k=customers)
    lasts = rng.choices(LAST_NAMES, cum_weights=last_cum, k=customers)
    domains = rng.choices([d for d, _ in EMAIL_DOMAINS], weights=[w for _, w in EMAIL_DOMAINS], k=customers)
    emails: list[str | None] = [None] * customers
    phones: list[str | None] = [None] * customers
    addresses: list[str | None] = [None] * customers
    nameless = [False] * customers
    used: set[str] = set()
    phone_salt = rng.randrange(10**9)
    for c in range(customers):
        seq = seq_of[c]
        r = rng.random()
        has_email = r >= 0.07  # the rest came from a till with only a phone
        if r < 0.03:
            nameless[c] = True
        if not has_email or rng.random() < 0.57:
            # Unique by construction: a bijection of the sequence number onto nine digits.
            phones[c] = f"+447{(seq * 7919 + phone_salt) % 10**9:09d}"
        if has_email:
            f, l = ascii_fold(firsts[c]), ascii_fold(lasts[c])
            style = rng.random()
            if nameless[c]:
                local = f"{rng.choice(ADJECTIVES)}{rng.choice(NOTES).split()[-1]}"
            elif style < 0.35:
                local = f"{f}.{l}"
            elif style < 0.5:
                local = f"{f}{l}"
            elif style < 0.65:
                local = f"{f[0]}{l}"
            elif style < 0.7:
                local = f"{f}_{l}"
            elif style < 0.75:
                local = f"{l}.{f}"
            elif style < 0.8:
                local = f"{f}{l[0]}"
            else:
                local = f"{f}{rng.randrange(60, 100) if rng.random() < 0.5 else rng.randrange(1, 100)}"
            if rng.random() < 0.5:
                local += str(rng.randrange(1, 10_000))
            email = f"{local}@{domains[c]}"
            if email in used:
                email = f"{local}.{seq}@{domains[c]}"
            used.add(email)
            emails[c] = email
        city, district = CITIES[rng.randrange(len(CITIES))]
        name = "" if nameless[c] else f"{firsts[c].capitalize()} {lasts[c].capitalize()}"
        address = {"name": name or "Customer", "line1": f"{rng.randrange(1, 240)} {rng.choice(STREETS).title()}", "city": city,
                   "postal_code": f"{district} {rng.randrange(1, 10)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}",
                   "country": "GB"}
        if phones[c]:
            address["phone"] = phones[c]
        addresses[c] = json.dumps(address, separators=(",", ":"))
    del used
    favourite = rng.choices(range(len(CATEGORIES)), weights=category_weights, k=customers)
    timings["people_s"] = time.time() - t0

    # Orders in time order, with their carts, lines and purchases; stats and preferences summed as we go.
    t0 = time.time()
    orders_count = array("l", [0]) * customers
    total_spent = array("q", [0]) * customers
    last_order = array("q", [-1]) * customers
    online_address = bytearray(customers)
    prefs = array("l", [0]) * (customers * PREF_SLOTS)
    customer_ids = [make_id("cus", seq_of[c], 14) for c in range(customers)]
    pos_locations = [location_ids["main"], location_ids["store-2"]]
    line_counts, line_weights = [1, 2, 3, 4], [55, 30, 10, 5]
    chunk = 20_000
    order_sql = ("INSERT INTO orders (seq, id, number, cart_id, channel, location_id, customer_id, email, status, currency, subtotal,"
                 " discount, shipping, tax, total, shipping_address, billing_address, shipping_method, discount_codes, tracking_token,"
                 " tracking_number, created_at, updated_at, phone) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'GBP', ?, 0, ?, ?, ?, ?, NULL, NULL,"
                 " '[]', ?, ?, ?, ?, ?)")
    cart_sql = ("INSERT INTO carts (id, channel, location_id, customer_id, email, currency, status, checkout_step, expires_at,"
                " expires_at_ms, created_at, updated_at, shipping_address, billing_address, shipping_method_id, discount_codes, phone)"
                " VALUES (?, ?, ?, NULL, ?, 'GBP', 'completed', ?, ?, ?, ?, ?, ?, NULL, NULL, '[]', ?)")
    line_sql = ("INSERT INTO order_lines (order_id, position, sku, title, quantity, unit_price, line_total, customisation, allocations)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)")
    purchase_sql = ("INSERT INTO customer_purchases (order_seq, line, customer_seq, sku, product_id, category, location, quantity, at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
    category_names = [c[0] for c in CATEGORIES]
    lines_total = 0
    random_ = rng.random
    for base in range(0, orders, chunk):
        order_rows, cart_rows, line_rows, purchase_rows = [], [], [], []
        for i in range(base, min(base + chunk, orders)):
            seq = i + 1
            c, t = who[i], when[i]
            cseq = seq_of[c]
            order_id, cart_id = make_id("ord", seq, 21), make_id("cart", seq, 22)
            at = stamp(t)
            pos = random_() < 0.2
            if pos:
                location_id = pos_locations[0] if random_() < 0.6 else pos_locations[1]
                code = "main" if location_id == pos_locations[0] else "store-2"
                ship_to, shipping, channel, step = None, 0, "pos", "cart"
            else:
                location_id = None
                code = "warehouse" if random_() < 0.7 else "main"
                ship_to, channel, step = addresses[c], "online", "payment"
                online_address[c] = 1
            n_lines = rng.choices(line_counts, line_weights)[0]
            chosen: list[int] = []
            while len(chosen) < n_lines:
                pool = by_category[favourite[c]] if random_() < 0.5 else all_variants
                v = rng.choices(pool[0], cum_weights=pool[1])[0]
                if v not in chosen:
                    chosen.append(v)
            subtotal = 0
            slot = c * PREF_SLOTS
            for position, v in enumerate(chosen, 1):
                sku, pid, ci, title, price, size_slot, colour_slot = variants[v]
                r = random_()
                quantity = 1 if r < 0.8 else 2 if r < 0.95 else 3
                subtotal += price * quantity
                line_rows.append((order_id, position, sku, title, quantity, price, price * quantity,
                                  f'[{{"location":"{code}","quantity":{quantity}}}]'))
                purchase_rows.append((seq, position - 1, cseq, sku, pid, category_names[ci], code, quantity, at))
                prefs[slot + ci] += quantity
                if size_slot >= 0:
                    prefs[slot + size_slot] += quantity
                if colour_slot >= 0:
                    prefs[slot + colour_slot] += quantity
            lines_total += len(chosen)
            if not pos:
                shipping = 0 if subtotal >= 5000 else 395
            total = subtotal + shipping
            tax = total - round(total / 1.2)  # prices include 20 % VAT
            age = now - t
            r = random_()
            if r < 0.03:
                status = "cancelled"
            elif r < 0.05 and age > 2 * DAY:
                status = "refunded"
            elif pos or age > 6 * DAY:
                status = "delivered"
            else:
                status = "paid" if age < DAY else "dispatched"
            orders_count[c] += 1
            if status not in ("cancelled", "refunded"):
                total_spent[c] += total
            last_order[c] = t
            email, phone = emails[c], phones[c] if (pos or random_() < 0.5) else None
            cart_created = t - rng.randrange(60, 1800)
            updated = at if status in ("paid", "delivered") or pos else stamp(min(now - 1, t + rng.randrange(DAY, 3 * DAY)))
            order_rows.append((seq, order_id, 1000 + seq, cart_id, channel, location_id, customer_ids[c], email, status, subtotal,
                               shipping, tax, total, ship_to, f"trk_{seq:010x}{mix(seq, 23):016x}{mix(seq, 24) >> 40:06x}",
                               f"JD{seq:012d}GB" if status in ("dispatched", "delivered") and not pos else None, at, updated, phone))
            cart_rows.append((cart_id, channel, location_id, email, step, stamp(cart_created + 900), (cart_created + 900) * 1000,
                              stamp(cart_created), at, ship_to, phone))
        db.executemany(cart_sql, cart_rows)
        db.executemany(order_sql, order_rows)
        db.executemany(line_sql, line_rows)
        db.executemany(purchase_sql, purchase_rows)
        if (base // chunk) % 25 == 24:
            done = base + chunk
            log(f"  {done:,} orders ({done / (time.time() - t0):,.0f}/s)")
    del who, when, line_rows, purchase_rows, order_rows, cart_rows
    timings["orders_s"] = time.time() - t0

    # Customers in seq order, with search rows, tags, consent and its ledger.
    t0 = time.time()
    tag_names, tag_weights = [t for t, _ in TAGS], [w for _, w in TAGS]
    customer_sql = ("INSERT INTO customers (seq, id, email, phone, first_name, last_name, tags, note, locale, timezone, addresses,"
                    " has_account, orders_count, total_spent, first_order_at, last_order_at, preferences, erased_at, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)")
    search_sql = "INSERT INTO customer_search (rowid, name, email, phone, tags, note) VALUES (?, ?, ?, ?, ?, ?)"
    consent_sql = "INSERT INTO customer_consent (customer_seq, channel, state, level, source, updated_at) VALUES (?, ?, ?, ?, ?, ?)"
    ledger_sql = "INSERT INTO consent_ledger (customer_id, channel, state, level, source, at) VALUES (?, ?, ?, ?, ?, ?)"
    counts = {"tagged": 0, "noted": 0, "consent_rows": 0, "with_phone": 0, "with_email": 0, "accounts": 0}
    chunk = 50_000
    for base in range(0, customers, chunk):
        customer_rows, search_rows, tag_rows, consent_rows, ledger_rows = [], [], [], [], []
        for rank in range(base, min(base + chunk, customers)):
            c = by_creation[rank]
            seq = rank + 1
            first = None if nameless[c] else firsts[c].capitalize()
            last = None if nameless[c] else lasts[c].capitalize()
            if last and "'" in last:
                last = last[:2] + last[2:].capitalize()  # O'Brien
            tags = []
            if random_() < 0.3:
                for tag in rng.choices(tag_names, tag_weights, k=rng.choice([1, 1, 1, 2, 2, 3])):
                    if tag not in tags:
                        tags.append(tag)
                counts["tagged"] += 1
            note = None
            if random_() < 0.05:
                note = rng.choice(NOTES).capitalize() + "."
                counts["noted"] += 1
            email, phone = emails[c], phones[c]
            counts["with_email"] += email is not None
            counts["with_phone"] += phone is not None
            account = email is not None and random_() < 0.1
            counts["accounts"] += account
            created = created_at[c]
            n = orders_count[c]
            if n:
                slot = c * PREF_SLOTS
                row = prefs[slot:slot + PREF_SLOTS]
                cats = {category_names[k]: row[k] for k in range(len(CATEGORIES)) if row[k]}
                attrs = {}
                sizes = {SIZE_VALUES[k]: row[len(CATEGORIES) + k] for k in range(len(SIZE_VALUES)) if row[len(CATEGORIES) + k]}
                colours = {COLOURS[k]: row[len(CATEGORIES) + len(SIZE_VALUES) + k] for k in range(len(COLOURS))
                           if row[len(CATEGORIES) + len(SIZE_VALUES) + k]}
                if sizes:
                    attrs["size"] = sizes
                if colours:
                    attrs["colour"] = colours
                preferences = json.dumps({"categories": cats, "attributes": attrs}, separators=(",", ":"))
                first_at, last_at = stamp(first_order[c]), stamp(last_order[c])
                updated = last_at
            else:
                preferences = '{"categories":{},"attributes":{}}'
                first_at = last_at = None
                updated = stamp(created)
            kept = online_address[c] or random_() < 0.2
            cid = customer_ids[c]
            customer_rows.append((seq, cid, email, phone, first, last, json.dumps(tags, separators=(",", ":")), note,
                                  "en-GB" if random_() < 0.9 else None, "Europe/London" if random_() < 0.85 else None,
                                  f"[{addresses[c]}]" if kept else "[]", int(account), n, total_spent[c], first_at, last_at,
                                  preferences, stamp(created), updated))
            name = " ".join(x for x in (first, last) if x) or None
            search_rows.append((seq, name, email, phone[1:] if phone else None, " ".join(tags), note))
            for tag in tags:
                tag_rows.append((tag, seq))
            if random_() < 0.4:
                at = stamp(created + int((now - created) * random_() * 0.3))
                if email:
                    r = random_()
                    state, level = ("subscribed", "confirmed_opt_in" if r < 0.3 else "single_opt_in") if r < 0.85 else ("unsubscribed", None)
                    source = rng.choice(["checkout", "checkout", "account", "pos", "import"])
                    consent_rows.append((seq, "email", state, level, source, at))
                    ledger_rows.append((cid, "email", state, level, source, at))
                if phone and random_() < 0.4:
                    consent_rows.append((seq, "sms", "subscribed", "single_opt_in", "pos", at))
                    ledger_rows.append((cid, "sms", "subscribed", "single_opt_in", "pos", at))
        db.executemany(customer_sql, customer_rows)
        db.executemany(search_sql, search_rows)
        db.executemany("INSERT INTO customer_tags (tag, customer_seq) VALUES (?, ?)", tag_rows)
        db.executemany(consent_sql, consent_rows)
        db.executemany(ledger_sql, ledger_rows)
        counts["consent_rows"] += len(consent_rows)
    timings["customers_s"] = time.time() - t0

    t0 = time.time()
    for name, sql in indexes:
        t1 = time.time()
        db.execute(sql)
        timings[f"index {name}_s"] = time.time() - t1
    timings["indexes_s"] = time.time() - t0
    t0 = time.time()
    db.execute("COMMIT")
    db.execute("PRAGMA journal_mode = WAL")
    db.close()
    timings["commit_s"] = time.time() - t0
    timings["total_s"] = time.time() - t_all

    top = sorted(range(len(CATEGORIES)), key=lambda k: -sum(weight[v] for v in range(len(variants)) if variants[v][2] == k))
    histogram = {"0": 0, "1": 0, "2-4": 0, "5-9": 0, "10+": 0}
    for n in orders_count:
        histogram["0" if n == 0 else "1" if n == 1 else "2-4" if n < 5 else "5-9" if n < 10 else "10+"] += 1
    return {"customers": customers, "orders": orders, "products": products, "variants": len(variants), "order_lines": lines_total,
            "seed": seed, "seeded_at": now, "schema_version": version, "orders_per_customer": histogram,
            "max_orders": max(orders_count) if customers else 0, "categories_by_popularity": [category_names[k] for k in top],
            **counts, "timings": {k: round(v, 2) for k, v in timings.items()}}


def check(db_path: Path) -> None:
    """Checks a loaded database against itself: stats, search rows, tags, purchases, SQLite's own checks."""
    db = sqlite3.connect(db_path)
    failures = []

    def expect(what: str, sql: str) -> None:
        t0 = time.time()
        n = db.execute(sql).fetchone()[0]
        log(f"check {what}: {n} wrong ({time.time() - t0:.1f} s)")
        if n:
            failures.append(what)

    expect("orders_count", "SELECT count(*) FROM customers c WHERE orders_count != (SELECT count(*) FROM orders o WHERE o.customer_id = c.id)")
    expect("total_spent", "SELECT count(*) FROM customers c WHERE total_spent != (SELECT coalesce(sum(total), 0) FROM orders o"
                          " WHERE o.customer_id = c.id AND status NOT IN ('cancelled', 'refunded'))")
    expect("first/last order", "SELECT count(*) FROM customers c WHERE coalesce(first_order_at, '') != coalesce((SELECT min(created_at) FROM orders o"
                               " WHERE o.customer_id = c.id), '') OR coalesce(last_order_at, '') != coalesce((SELECT max(created_at) FROM orders o"
                               " WHERE o.customer_id = c.id), '')")
    expect("created before first order", "SELECT count(*) FROM customers WHERE first_order_at < created_at")
    expect("seq in creation order", "SELECT count(*) FROM customers a JOIN customers b ON b.seq = a.seq + 1 WHERE b.created_at < a.created_at")
    expect("purchases = lines", "SELECT (SELECT count(*) FROM order_lines) - (SELECT count(*) FROM customer_purchases)")
    expect("purchase quantities", "SELECT count(*) FROM (SELECT customer_seq, sum(quantity) q FROM customer_purchases GROUP BY customer_seq) p"
                                  " JOIN customers c ON c.seq = p.customer_seq WHERE p.q != (SELECT sum(value) FROM json_each(c.preferences, '$.categories'))")
    expect("purchases' customer", "SELECT count(*) FROM customer_purchases p JOIN orders o ON o.seq = p.order_seq"
                                  " JOIN customers c ON c.seq = p.customer_seq WHERE o.customer_id != c.id OR p.at != o.created_at")
    expect("search rows", "SELECT (SELECT count(*) FROM customers) - (SELECT count(*) FROM customer_search)")
    expect("search names", "SELECT count(*) FROM customer_search s JOIN customers c ON c.seq = s.rowid"
                           " WHERE coalesce(s.name, '') != trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, ''))"
                           " OR coalesce(s.email, '') != coalesce(c.email, '') OR coalesce(s.phone, '') != coalesce(substr(c.phone, 2), '')")
    expect("tags", "SELECT (SELECT count(*) FROM customers c, json_each(c.tags)) - (SELECT count(*) FROM customer_tags)")
    expect("phones E.164", "SELECT count(*) FROM customers WHERE phone IS NOT NULL AND phone NOT GLOB '+[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]*'")
    expect("email or phone", "SELECT count(*) FROM customers WHERE email IS NULL AND phone IS NULL")
    expect("order numbers", "SELECT count(*) FROM orders WHERE number != 1000 + seq")
    expect("foreign keys", "SELECT count(*) FROM pragma_foreign_key_check")
    t0 = time.time()
    result = db.execute("PRAGMA integrity_check").fetchall()
    log(f"check integrity: {result[:3]} ({time.time() - t0:.1f} s)")
    if result != [("ok",)]:
        failures.append("integrity")
    mode = db.execute("PRAGMA journal_mode").fetchone()[0]
    log(f"check journal mode: {mode}")
    if mode != "wal":
        failures.append("journal mode")
    if failures:
        raise SystemExit(f"customers.py: check failed: {', '.join(failures)}")


# --- The server ------------------------------------------------------------------------------------

class Server:
    def __init__(self, binary: str, data: Path, key: str, log_path: Path):
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [binary, "serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data), "--log-level", "notice"],
            stdout=self.log, stderr=subprocess.STDOUT, env={**os.environ, "SHOPFLOOR_ADMIN_KEY": key})
        self.pid = self.process.pid
        deadline = time.time() + 180
        while True:
            match = re.search(r"listening on http://([0-9.]+):(\d+)", log_path.read_text(errors="replace"))
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                break
            if self.process.poll() is not None or time.time() > deadline:
                self.stop()
                raise SystemExit("customers.py: the server did not start:\n" + log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.05)
        self.key = key

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def status_kib(self, field: str) -> int:
        for line in open(f"/proc/{self.pid}/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1])
        return 0

    def request(self, method: str, path: str, body=None, timeout: float = 120) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            headers = {"Authorization": f"Bearer {self.key}"}
            data = None
            if body is not None:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def schema_fingerprint(db_path: Path) -> tuple[str, int]:
    db = sqlite3.connect(db_path)
    try:
        rows = db.execute("SELECT type, name, tbl_name, coalesce(sql, '') FROM sqlite_master ORDER BY type, name").fetchall()
        version = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
    finally:
        db.close()
    return hashlib.sha256(json.dumps([rows, version]).encode()).hexdigest(), version


# --- Measures --------------------------------------------------------------------------------------

QUERY_KINDS = ["name prefix", "first + surname prefix", "email prefix", "phone digits"]


def search_queries(db_path: Path, rng: random.Random, count: int) -> list[tuple[str, str]]:
    """(kind, q) from real customers: name prefixes, first name + surname prefix, email prefixes, phone digits."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    total = db.execute("SELECT max(seq) FROM customers").fetchone()[0]
    sample = rng.sample(range(1, total + 1), min(total, 5000))
    people = db.execute(f"SELECT first_name, last_name, email, phone FROM customers WHERE seq IN ({','.join(map(str, sample))})").fetchall()
    db.close()
    named = [p for p in people if p[0] and p[1]]
    mailed = [p for p in people if p[2]]
    phoned = [p for p in people if p[3]]
    out = []
    for _ in range(count):
        r = rng.random()
        if r < 0.35:
            word = rng.choice(rng.choice(named)[:2]).lower()
            out.append(("name prefix", word[:rng.randint(3, max(3, min(6, len(word))))]))
        elif r < 0.6:
            first, last = rng.choice(named)[:2]
            out.append(("first + surname prefix", f"{first.lower()} {last.lower()[:rng.randint(2, max(2, min(5, len(last))))]}"))
        elif r < 0.85:
            email = rng.choice(mailed)[2]
            local = email.split("@")[0]
            out.append(("email prefix", email[:rng.randint(min(4, len(local)), len(email))]))
        else:
            digits = rng.choice(phoned)[3][1:]
            out.append(("phone digits", digits[:rng.randint(7, len(digits))]))
    return out


def search_path(q: str) -> str:
    return "/v1/customers?limit=20&q=" + urllib.parse.quote(q)


def probe_search(server: Server, queries: list[tuple[str, str]]) -> dict:
    """Each kind of query one at a time: answered 200, found anyone, p50 and max, so a slow kind shows."""
    out = {}
    for kind in sorted(dict.fromkeys(k for k, _ in queries), key=QUERY_KINDS.index):
        times, found, bad = [], 0, 0
        for _, q in [x for x in queries if x[0] == kind][:100]:
            t0 = time.perf_counter()
            status, body = server.request("GET", search_path(q))
            times.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                bad += 1
                if bad == 1:
                    log(f"search {q!r}: {status} {body[:300]!r}")
                continue
            found += bool(json.loads(body).get("items"))
        times.sort()
        out[kind] = {"queries": len(times), "non_200": bad, "found": found, "p50_ms": round(times[len(times) // 2], 2),
                     "max_ms": round(times[-1], 2)}
    return out


WRK_LUA = """
-- Cycles through the request paths in WRK_PATHS, each thread from its own place in the list.
local paths = {}
local index = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  for line in io.lines(os.getenv("WRK_PATHS")) do
    if #line > 0 then table.insert(paths, line) end
  end
  index = (id or 1) * math.floor(#paths / 7)
end
function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
"""


def to_ms(text: str) -> float:
    match = re.match(r"([0-9.]+)(us|ms|s|m)$", text)
    value, unit = float(match.group(1)), match.group(2)
    return value * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk_search(server: Server, paths_file: Path, lua: Path, connections: int, duration: int) -> dict:
    url = f"http://{server.host}:{server.port}/"
    command = ["wrk", "--latency", "-t2", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
               "-H", f"Authorization: Bearer {server.key}", "-s", str(lua), url]
    out = subprocess.run(command, env={**os.environ, "WRK_PATHS": str(paths_file)}, capture_output=True, text=True,
                         timeout=duration + 60)
    text = out.stdout + out.stderr
    try:
        latency = re.search(r"^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)", text, re.M)
        pct = dict(re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M))
        requests = int(re.search(r"(\d+) requests in", text).group(1))
        errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", text))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
        return {"client": "wrk -t2", "requests": requests, "rps": float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1)),
                "p50_ms": to_ms(pct["50"]), "p99_ms": to_ms(pct["99"]), "max_ms": to_ms(latency.group(3)),
                "errors": errors + (int(non2xx.group(1)) if non2xx else 0)}
    except (AttributeError, KeyError, ValueError):
        raise SystemExit(f"customers.py: could not read wrk's output:\n{text}")


async def _client(host, port, key, paths, start, deadline, latencies, errors):
    reader, writer = await asyncio.open_connection(host, port)
    index = start
    try:
        while time.perf_counter() < deadline:
            path = paths[index % len(paths)]
            index += 1
            t0 = time.perf_counter()
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            if length:
                await reader.readexactly(int(length.group(1)))
            else:  # chunked
                while True:
                    size = int((await reader.readline()).split(b";")[0], 16)
                    await reader.readexactly(size + 2)
                    if size == 0:
                        break
            latencies.append(time.perf_counter() - t0)
            if status != 200:
                errors[0] += 1
    except (OSError, asyncio.IncompleteReadError, ValueError):
        errors[0] += 1
    finally:
        writer.close()


def python_search(server: Server, paths: list[str], connections: int, duration: int) -> dict:
    latencies: list[float] = []
    errors = [0]

    async def run():
        deadline = time.perf_counter() + duration
        await asyncio.gather(*(_client(server.host, server.port, server.key, paths, n * len(paths) // connections, deadline,
                                       latencies, errors) for n in range(connections)))

    t0 = time.perf_counter()
    asyncio.run(run())
    elapsed = time.perf_counter() - t0
    latencies.sort()
    pick = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000
    return {"client": "python asyncio (no wrk: the client shares the cores and limits the rate)", "requests": len(latencies),
            "rps": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99), "max_ms": latencies[-1] * 1000,
            "errors": errors[0]}


SEGMENT_COUNT_SQL = """
SELECT count(*) FROM customers c WHERE c.erased_at IS NULL
  AND c.total_spent >= :spent AND c.orders_count >= :orders
  AND c.seq IN (SELECT customer_seq FROM customer_purchases WHERE category = :category AND at >= :since)
  AND {fourth}
  AND c.last_order_at >= :after
"""


def segment_filter(category: str, fourth: dict) -> dict:
    return {"all": [{"total_spent": {"gte": {"amount": 5000, "currency": CURRENCY}}}, {"orders_count": {"gte": 2}},
                    {"bought": {"category": category, "since": "-180d"}}, fourth, {"last_order_at": {"after": "-365d"}}]}


def direct_count(db_path: Path, category: str, fourth: dict) -> tuple[int, float]:
    """The segment's count from the file itself (what SegmentSQL builds), to check the server's answer."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    now = time.time()
    if "tag" in fourth:
        condition, extra = "c.seq IN (SELECT customer_seq FROM customer_tags WHERE tag = :tag)", {"tag": fourth["tag"]}
    else:
        condition, extra = ("c.seq IN (SELECT customer_seq FROM customer_consent WHERE channel = :channel AND state = 'subscribed')",
                            {"channel": fourth["consent"]})
    t0 = time.perf_counter()
    n = db.execute(SEGMENT_COUNT_SQL.format(fourth=condition),
                   {"spent": 5000, "orders": 2, "category": category, "since": stamp(int(now) - 180 * DAY),
                    "after": stamp(int(now) - 365 * DAY), **extra}).fetchone()[0]
    elapsed = (time.perf_counter() - t0) * 1000
    db.close()
    return n, elapsed


def measure_segment(server: Server, db_path: Path, name: str, category: str, fourth: dict) -> dict:
    expected, direct_ms = direct_count(db_path, category, fourth)
    t0 = time.perf_counter()
    status, body = server.request("POST", "/v1/segments", {"name": name, "filter": segment_filter(category, fourth)})
    create_ms = (time.perf_counter() - t0) * 1000
    if status != 201:
        raise SystemExit(f"customers.py: POST /v1/segments → {status}: {body[:500]!r}")
    segment = json.loads(body)
    times, count = [], None
    for _ in range(5):
        t0 = time.perf_counter()
        status, body = server.request("GET", f"/v1/segments/{segment['id']}")
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            raise SystemExit(f"customers.py: GET /v1/segments/{segment['id']} → {status}: {body[:500]!r}")
        count = json.loads(body).get("count")
    return {"id": segment["id"], "filter": segment_filter(category, fourth), "count": count, "count_at_create": segment.get("count"),
            "direct_sql_count": expected, "direct_sql_ms": round(direct_ms, 1), "create_ms": round(create_ms, 1),
            "first_ms": round(times[0], 1), "best_ms": round(min(times), 1), "median_ms": round(statistics.median(times), 1)}


HEADER = "id,email,phone,first_name,last_name,tags,orders_count,total_spent,currency,last_order_at,created_at"


def measure_export(server: Server, path: str) -> dict:
    samples: list[tuple[int, int]] = []
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            try:
                samples.append((server.status_kib("VmRSS"), server.status_kib("RssAnon")))
            except OSError:
                return
            time.sleep(0.01)

    rss_before, anon_before = server.status_kib("VmRSS"), server.status_kib("RssAnon")
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    connection = http.client.HTTPConnection(server.host, server.port, timeout=300)
    t0 = time.perf_counter()
    connection.request("GET", path, headers={"Authorization": f"Bearer {server.key}"})
    response = connection.getresponse()
    first_byte = None
    newlines, size, head = 0, 0, b""
    while True:
        block = response.read(1 << 16)
        if not block:
            break
        if first_byte is None:
            first_byte = time.perf_counter() - t0
        if len(head) < 4096:
            head += block[:4096]
        newlines += block.count(b"\n")
        size += len(block)
        last = block[-1:]
    elapsed = time.perf_counter() - t0
    connection.close()
    time.sleep(1.0)
    stop.set()
    sampler.join()
    rss_after = server.status_kib("VmRSS")
    if response.status != 200:
        raise SystemExit(f"customers.py: GET {path} → {response.status}: {head[:500]!r}")
    header = head.split(b"\n", 1)[0].decode().rstrip("\r")
    rows = newlines - 1 + (1 if size and last != b"\n" else 0)
    peak = max([s[0] for s in samples] + [rss_before])
    peak_anon = max([s[1] for s in samples] + [anon_before])
    return {"path": path, "status": response.status, "content_type": response.getheader("Content-Type"),
            "transfer": "chunked" if response.getheader("Transfer-Encoding") else "length", "header_ok": header == HEADER,
            "rows": rows, "bytes": size, "seconds": round(elapsed, 2), "first_byte_ms": round((first_byte or 0) * 1000, 1),
            "rows_per_second": rows / elapsed if elapsed else 0.0, "rss_before_mb": rss_before / 1024, "rss_peak_mb": peak / 1024,
            "rss_after_mb": rss_after / 1024, "rss_growth_mb": (peak - rss_before) / 1024,
            "anon_growth_mb": (peak_anon - anon_before) / 1024, "samples": len(samples)}


# --- Main ------------------------------------------------------------------------------------------

def seeded_database(args, work: Path, binary: str) -> tuple[Path, dict, bool]:
    """The cached, seeded database for these sizes and the binary's schema (made if missing)."""
    schema_dir = work / "schema"
    log("starting the server once on an empty data dir for its schema…")
    Server(binary, schema_dir, "bench-" + secrets.token_hex(16), work / "schema.log").stop()
    empty = schema_dir / DB_NAME
    fingerprint, version = schema_fingerprint(empty)
    cache = Path(args.cache_dir).resolve()
    stem = f"c{args.customers}-o{args.orders}-p{args.products}-r{args.seed}"
    target = cache / f"{stem}-m{version}-{fingerprint[:12]}"
    if (target / "meta.json").exists() and (target / DB_NAME).exists():
        log(f"using the seeded database cached in {target}")
        return target / DB_NAME, json.loads((target / "meta.json").read_text()), True
    cache.mkdir(parents=True, exist_ok=True)
    for stale in cache.glob(f"{stem}-*"):
        log(f"removing {stale} (another schema)")
        shutil.rmtree(stale, ignore_errors=True)
    building = cache / f".{target.name}.partial"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir()
    shutil.copyfile(empty, building / DB_NAME)
    for suffix in ("-wal", "-shm"):
        if Path(str(empty) + suffix).exists():
            shutil.copyfile(str(empty) + suffix, str(building / DB_NAME) + suffix)
    log(f"seeding {args.customers:,} customers and {args.orders:,} orders into {building} (schema migration {version})…")
    meta = load(building / DB_NAME, args.customers, args.orders, args.products, args.seed, int(time.time()))
    meta["schema_fingerprint"] = fingerprint
    meta["db_mb"] = round((building / DB_NAME).stat().st_size / 2**20)
    (building / "meta.json").write_text(json.dumps(meta, indent=1))
    building.rename(target)
    log(f"seeded in {meta['timings']['total_s']:.0f} s, {meta['db_mb']:,} MB: {json.dumps(meta['timings'])}")
    return target / DB_NAME, meta, False


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=3_000_000)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=24)
    parser.add_argument("--duration", type=int, default=20, help="seconds of search load")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--phases", default="search,segment,export")
    parser.add_argument("--binary", default=str(ROOT / ".build/release/shopfloor"))
    parser.add_argument("--cache-dir", default=str(ROOT / ".build/bench-customers"), help="seeded databases, by size and schema")
    parser.add_argument("--load-only", metavar="FILE", help="fill this database (with the server's schema already) and stop")
    parser.add_argument("--check", action="store_true", help="with --load-only: verify the loaded data")
    args = parser.parse_args()

    if args.load_only:
        meta = load(Path(args.load_only), args.customers, args.orders, args.products, args.seed, int(time.time()))
        print(json.dumps(meta))
        if args.check:
            check(Path(args.load_only))
        return 0

    phases = set(args.phases.split(","))
    binary = args.binary
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"customers.py: {binary} not found (swift build -c release --product shopfloor)")
    work = Path(tempfile.mkdtemp(prefix="shopfloor-customers."))
    server = None
    try:
        cached_db, meta, cached = seeded_database(args, work, binary)
        data = work / "data"
        data.mkdir()
        t0 = time.time()
        shutil.copyfile(cached_db, data / DB_NAME)
        copy_s = time.time() - t0
        rng = random.Random(args.seed + 1)
        category = meta["categories_by_popularity"][0]
        queries = search_queries(data / DB_NAME, rng, 20_000)
        key = "bench-" + secrets.token_hex(16)
        t0 = time.time()
        server = Server(binary, data, key, work / "server.log")
        start_s = time.time() - t0
        log(f"server up in {start_s:.1f} s on port {server.port} (pid {server.pid}, RSS {server.status_kib('VmRSS') / 1024:.0f} MB)")
        result = {"customers": meta["customers"], "orders": meta["orders"], "seed_cached": cached,
                  "seed_s": meta["timings"]["total_s"], "copy_s": round(copy_s, 1), "server_start_s": round(start_s, 1),
                  "rss_start_mb": server.status_kib("VmRSS") / 1024}

        if "search" in phases:
            log("search: 100 queries of each kind, one at a time…")
            result["search_kinds"] = probe_search(server, queries)
            paths_file, lua = work / "search-paths.txt", work / "search.lua"
            paths_file.write_text("".join(search_path(q) + "\n" for _, q in queries))
            lua.write_text(WRK_LUA)
            if shutil.which("wrk"):
                log("search: 3 s of warm-up, then the measured run…")
                wrk_search(server, paths_file, lua, args.connections, 3)
                result["search"] = wrk_search(server, paths_file, lua, args.connections, args.duration)
            else:
                log("wrk not found (apt-get install -y wrk): the Python client measures, and shares the cores with the server")
                result["search"] = python_search(server, [search_path(q) for _, q in queries], args.connections, args.duration)
            log(f"search: {json.dumps(result['search'])}")

        if "segment" in phases:
            log(f"segment: five conditions, bought {category!r} …")
            result["segment_tag"] = measure_segment(server, data / DB_NAME, "bench: vip regulars", category, {"tag": "vip"})
            result["segment_consent"] = measure_segment(server, data / DB_NAME, "bench: subscribed regulars", category, {"consent": "email"})
            log(f"segment: {json.dumps(result['segment_tag'])}")

        if "export" in phases:
            log("export: every customer…")
            result["export"] = measure_export(server, "/v1/customers/export")
            if "segment_tag" in result:
                result["export_segment"] = measure_export(server, f"/v1/customers/export?segment={result['segment_tag']['id']}")
        result["rss_end_mb"] = server.status_kib("VmRSS") / 1024
        result["hwm_mb"] = server.status_kib("VmHWM") / 1024
        server.stop()
        server = None
        report(args, meta, result)
        return 0
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(args, meta: dict, r: dict) -> None:
    print(f"### Customers (bench/customers.py: {meta['customers']:,} customers, {meta['orders']:,} orders, "
          f"{meta['order_lines']:,} lines, {meta['products']:,} products)")
    print()
    age = (time.time() - meta["seeded_at"]) / DAY
    seed = f"cached, made {age:.1f} days ago" if r["seed_cached"] else "made now"
    timings = meta["timings"]
    print(f"Seed ({seed}; bulk sqlite3): {timings['total_s']:.0f} s — orders {timings['orders_s']:.0f} s, customers and search rows "
          f"{timings['customers_s']:.0f} s, indexes {timings['indexes_s']:.0f} s; {meta.get('db_mb', 0):,} MB. Orders per customer: "
          + ", ".join(f"{k}: {v:,}" for k, v in meta["orders_per_customer"].items()) + f" (max {meta['max_orders']}). "
          f"Copy {r['copy_s']} s, server start {r['server_start_s']} s, RSS at start {r['rss_start_mb']:.0f} MB.")
    print()
    print("| measure | load | result | target | |")
    print("|---|---|---|---|---|")
    if "search" in r:
        s = r["search"]
        print(f"| search `GET /v1/customers?q=…&limit=20` | {args.connections} conns, {args.duration} s, {s['client']} "
              f"| {s['rps']:,.0f} req/s, p50 {s['p50_ms']:.2f} ms, p99 {s['p99_ms']:.2f} ms, max {s['max_ms']:.1f} ms, "
              f"{s['errors']} errors | p99 < 20 ms | {verdict(s['p99_ms'] < 20 and s['errors'] == 0)} |")
        for kind, k in r["search_kinds"].items():
            print(f"| · {kind}, one at a time | 1 conn, {k['queries']} queries | found someone {k['found']}/{k['queries']}, "
                  f"p50 {k['p50_ms']} ms, max {k['max_ms']} ms, {k['non_200']} not 200 | | |")
    for name, label in (("segment_tag", "tag vip"), ("segment_consent", "consent email")):
        if name in r:
            g = r[name]
            same = "= " if g["count"] == g["direct_sql_count"] else "≠ "
            print(f"| segment of 5 conditions ({label}) `GET /v1/segments/{{id}}` | 5 times, after POST ({g['create_ms']} ms) "
                  f"| best {g['best_ms']} ms, median {g['median_ms']} ms, first {g['first_ms']} ms; count {g['count']:,} "
                  f"({same}{g['direct_sql_count']:,} from the file in {g['direct_sql_ms']} ms) | < 500 ms "
                  f"| {verdict(g['median_ms'] < 500 and g['count'] == g['direct_sql_count'])} |")
    if "export" in r:
        e = r["export"]
        ok = e["rows_per_second"] >= 100_000 and e["rss_growth_mb"] < 50 and e["header_ok"] and e["rows"] == meta["customers"]
        print(f"| CSV export `GET /v1/customers/export` | everyone, 1 conn | {e['rows']:,} rows ({e['bytes'] / 2**20:,.0f} MB) in "
              f"{e['seconds']} s: {e['rows_per_second']:,.0f} rows/s, first byte {e['first_byte_ms']} ms; RSS {e['rss_before_mb']:.0f} → "
              f"peak {e['rss_peak_mb']:.0f} MB (+{e['rss_growth_mb']:.1f}, heap +{e['anon_growth_mb']:.1f}), after "
              f"{e['rss_after_mb']:.0f} MB{'' if e['header_ok'] else '; header differs'} | ≥ 100,000 rows/s, RSS growth < 50 MB "
              f"| {verdict(ok)} |")
    if "export_segment" in r:
        e = r["export_segment"]
        print(f"| CSV export of the vip segment | 1 conn | {e['rows']:,} rows in {e['seconds']} s, RSS +{e['rss_growth_mb']:.1f} MB | | |")
    print()
    print(f"Server RSS at the end {r['rss_end_mb']:.0f} MB, high-water mark {r['hwm_mb']:.0f} MB. Checkout throughput with "
          "customer linking: bench/ab.sh OLD_BINARY NEW_BINARY (within 5 %).")
    print(json.dumps({"meta": meta, "result": r}))


if __name__ == "__main__":
    sys.exit(main())
