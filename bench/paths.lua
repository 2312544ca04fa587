-- Requests a different path each time, cycling through the lines of the file in WRK_PATHS
-- (product ids as /v1/products/<id>, or search queries as /v1/products?q=<query>).
local paths = {}
local index = 0

function init(args)
  local file = assert(io.open(os.getenv("WRK_PATHS"), "r"))
  for line in file:lines() do
    if #line > 0 then table.insert(paths, line) end
  end
  file:close()
  index = math.random(#paths)
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
