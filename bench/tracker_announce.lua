-- wrk script for bench/tracker_bench.sh: every request is a distinct peer (peer_id and port from
-- a counter) announcing on one of the info-hashes listed, %-escaped, in the file named by the
-- TRACKER_HASHES environment variable. Requests are built once in init() and then cycled, so
-- wrk's own Lua work per request is a table lookup, not string building.
local requests = {}
local next_index = 1

function init(args)
  local hashes = {}
  for line in io.lines(os.getenv("TRACKER_HASHES")) do
    hashes[#hashes + 1] = line
  end
  local count = tonumber(os.getenv("TRACKER_REQUESTS") or "200000")
  for i = 1, count do
    local hash = hashes[(i % #hashes) + 1]
    local peer_id = string.format("-WRK001-%012d", i)
    local port = 1 + (math.floor(i / #hashes) % 65000)
    requests[i] = wrk.format("GET", "/announce?info_hash=" .. hash .. "&peer_id=" .. peer_id ..
      "&port=" .. port .. "&uploaded=0&downloaded=0&left=1000&event=started&compact=1")
  end
end

function request()
  local r = requests[next_index]
  next_index = next_index + 1
  if next_index > #requests then next_index = 1 end
  return r
end
