#!/usr/bin/env python3
"""Loads a realistic catalogue into a running Shopfloor through POST /v1/products/import.

    bench/seed.py --url http://127.0.0.1:8080 --admin-key KEY [--products 100000] [--variants 3]
                  [--batch 1000] [--out DIR]

Creates two more locations (a second store and a warehouse, both fulfilling online), then products
with 1..--variants variants (sizes, colours), prices, barcodes, tags and initial stock spread over
the three locations. Titles and descriptions come from a fixed vocabulary of made-up words, seeded,
so runs are repeatable and searches match a realistic few dozen products rather than thousands.
Prints a JSON summary and, with --out, writes product ids and search queries for bench/http.sh
(queries.txt, 200 to repeat) and bench/once (typed-queries.txt, 10,000 distinct).
Loopback targets only; stops by itself.
"""
import argparse
import concurrent.futures
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlparse

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "ta", "so", "vi", "de", "po", "la", "zu", "be", "ri", "no", "sa",
             "te", "mo", "gi", "fa", "el", "an", "or", "us"]
SIZES = ["XS", "S", "M", "L", "XL"]
COLOURS = ["black", "white", "red", "blue", "green", "ochre", "navy", "grey"]
CATEGORIES = ["kitchen", "home", "textiles", "garden", "stationery", "toys", "lighting", "bath"]


def ean13(number):
    digits = [int(d) for d in f"{number:012d}"]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


def typed_queries(titles, count, exclude, rng):
    """`count` distinct queries as shoppers type them into a search box: the prefixes (from two
    letters) of a title's first word, then that word and each prefix (from one letter) of the second,
    for titles taken at random, shuffled; none of `exclude` (the repeated queries of the other row)."""
    seen = set(exclude)
    queries = []
    for title in rng.sample(titles, len(titles)):
        words = title.lower().split()
        typed = [words[0][:n] for n in range(2, len(words[0]) + 1)]
        typed += [f"{words[0]} {words[1][:n]}" for n in range(1, len(words[1]) + 1)] if len(words) > 1 else []
        for query in typed:
            if query not in seen:
                seen.add(query)
                queries.append(query)
                if len(queries) == count:
                    rng.shuffle(queries)
                    return queries
    sys.exit(f"seed.py: only {len(queries)} distinct typed queries")


def request(url, key, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as response:
        return json.load(response)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=os.environ.get("SHOPFLOOR_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--admin-key", default=os.environ.get("SHOPFLOOR_ADMIN_KEY"))
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--variants", type=int, default=3, help="variants per product (average is this, 1..2n-1)")
    parser.add_argument("--batch", type=int, default=400, help="products per import request (bodies stay under 1 MiB)")
    parser.add_argument("--out", help="directory for product-ids.txt and queries.txt")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    host = urlparse(args.url).hostname or ""
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        sys.exit("seed.py: loopback targets only")
    if not args.admin_key:
        sys.exit("seed.py: --admin-key or SHOPFLOOR_ADMIN_KEY is required")

    rng = random.Random(args.seed)
    vocabulary = sorted({"".join(rng.choices(SYLLABLES, k=rng.randint(2, 4))) for _ in range(20_000)})
    for code, name, kind in (("leeds", "Leeds shop", "store"), ("depot", "Depot", "warehouse")):
        try:
            request(f"{args.url}/v1/locations", args.admin_key, "POST",
                    {"code": code, "name": name, "kind": kind, "fulfils_online": True})
        except urllib.error.HTTPError as error:
            if error.code != 409:
                raise
    locations = ["main", "leeds", "depot"]

    def product(index):
        title_words = rng.sample(vocabulary, rng.randint(2, 4))
        count = max(1, min(2 * args.variants - 1, round(rng.gauss(args.variants, 1))))
        colour_variants = rng.random() < 0.5
        variants = []
        for v in range(count):
            option = COLOURS[v % len(COLOURS)] if colour_variants else SIZES[v % len(SIZES)]
            variants.append({
                "sku": f"SF-{index:06d}-{v}",
                "title": option,
                "price": {"amount": rng.randint(199, 19999), "currency": "GBP"},
                "attributes": {"colour" if colour_variants else "size": option},
                "barcode": ean13(500000000000 + index * 10 + v),
                "low_stock_threshold": 2,
                "initial_stock": {loc: rng.randint(0, 12) for loc in rng.sample(locations, rng.randint(1, 3))},
            })
        return {
            "title": " ".join(title_words).title(),
            "description": " ".join(rng.choices(vocabulary, k=rng.randint(12, 40))),
            "category": rng.choice(CATEGORIES),
            "tags": rng.sample(vocabulary, 3),
            "images": [f"https://images.example/{index}/{n}.jpg" for n in range(rng.randint(1, 3))],
            "variants": variants,
        }

    batches = []
    titles = []
    all_titles = []
    for start in range(0, args.products, args.batch):
        items = [product(i) for i in range(start, min(start + args.batch, args.products))]
        titles += [p["title"] for p in items[:5]]
        all_titles += [p["title"] for p in items]
        batches.append(items)
    variant_count = sum(len(p["variants"]) for batch in batches for p in batch)

    began = time.monotonic()
    ids = []
    # Two requests in flight: one parses and validates while the writer commits the other.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for result in pool.map(lambda b: request(f"{args.url}/v1/products/import", args.admin_key, "POST", {"products": b}), batches):
            ids += result["ids"]
    elapsed = time.monotonic() - began

    queries = []
    for title in rng.sample(titles, min(200, len(titles))):
        words = title.lower().split()
        queries.append(words[0] if len(words) < 2 else f"{words[0]} {words[1][:3]}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "product-ids.txt"), "w") as f:
            f.write("\n".join(rng.sample(ids, min(1000, len(ids)))) + "\n")
        with open(os.path.join(args.out, "queries.txt"), "w") as f:
            f.write("\n".join(queries) + "\n")
        with open(os.path.join(args.out, "typed-queries.txt"), "w") as f:
            f.write("\n".join(typed_queries(all_titles, 10_000, set(queries), random.Random(args.seed + 1))) + "\n")
    print(json.dumps({"products": len(ids), "variants": variant_count, "locations": len(locations),
                      "seconds": round(elapsed, 1), "products_per_second": round(len(ids) / elapsed)}))


if __name__ == "__main__":
    main()
