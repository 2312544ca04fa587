-- Hot-SKU reservations with wrk: every request adds one unit of the SKU to a cart or removes that
-- line again, so reserve and release alternate on one SKU actor. wrk keeps no per-connection state,
-- so each thread keeps two queues of its own carts, read back from the responses: carts ready for
-- an add, and (cart, line) pairs ready for a removal. Carts come from the file in WRK_CARTS (one id
-- a line, made beforehand), split between the threads; there must be more carts than connections.
--   WRK_CARTS=carts.txt WRK_SKU=HOT-1 wrk -t2 -c256 -d10s -s bench/reserve.lua http://127.0.0.1:8080
--
-- With WRK_RATE (operations per second over all threads) the load is open: each thread sends on a
-- fixed schedule of its own (rate / WRK_THREADS), whatever the answers' speed, so the latency is that
-- of a server offered this rate rather than of 256 clients each waiting for the last answer, where
-- the mean latency is only connections / throughput (Little's law). A slot is taken by the next
-- connection free to send; a server that falls behind meets the slots it missed at once, so the
-- offered rate holds (wrk times a request from its send, so such a backlog shows as a lower rate).
local threads = {}
local ready, held = {}, {}
local sku, body
local adds, removes, refused, failed = 0, 0, 0, 0

local rate = tonumber(os.getenv("WRK_RATE") or "")
if rate and rate > 0 then
  local ffi = require("ffi")
  ffi.cdef[[
    typedef struct { long tv_sec; long tv_nsec; } reserve_timespec;
    int clock_gettime(int clock, reserve_timespec *spec);
  ]]
  local spec = ffi.new("reserve_timespec")
  local function now_ms()
    assert(ffi.C.clock_gettime(1, spec) == 0) -- 1 is CLOCK_MONOTONIC on Linux
    return tonumber(spec.tv_sec) * 1000 + tonumber(spec.tv_nsec) / 1e6
  end
  local interval, slot -- milliseconds between this thread's sends; the next send's time
  function delay()
    local now = now_ms()
    interval = interval or 1000 * tonumber(os.getenv("WRK_THREADS") or "1") / rate
    slot = (slot or now) + interval
    return math.max(0, math.floor(slot - now + 0.5))
  end
end

function setup(thread)
  thread:set("index", #threads)
  table.insert(threads, thread)
end

function init(args)
  sku = os.getenv("WRK_SKU")
  body = '{"sku":"' .. sku .. '","quantity":1}'
  local count = tonumber(os.getenv("WRK_THREADS") or "1")
  local n = 0
  for line in assert(io.open(os.getenv("WRK_CARTS"), "r")):lines() do
    if #line > 0 and n % count == index then table.insert(ready, line) end
    n = n + 1
  end
end

function request()
  local pair = table.remove(held)
  if pair then
    return wrk.format("DELETE", "/v1/carts/" .. pair[1] .. "/lines/" .. pair[2])
  end
  local cart = table.remove(ready, 1)
  if cart == nil then
    return wrk.format("GET", "/health")
  end
  return wrk.format("POST", "/v1/carts/" .. cart .. "/lines", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, response_body)
  local cart = response_body:match('^{"id":"(cart_[%w]+)"')
  if status == 200 and cart then
    local line = response_body:match('"lines":%[{"id":"(line_[%w]+)"')
    if line then
      adds = adds + 1
      table.insert(held, {cart, line})
    else
      removes = removes + 1
      table.insert(ready, cart)
    end
  elseif status == 409 then
    refused = refused + 1
  elseif status ~= 200 then
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format('{"requests":%d,"seconds":%.3f,"p50_ms":%.2f,"p99_ms":%.2f,"errors":%d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
