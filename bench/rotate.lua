-- wrk script of bench/run.py: GET requests taken in turn from a file, and what came back.
--
--   wrk -t1 -c6 -d20s --latency -s bench/rotate.lua http://127.0.0.1:PORT -- REQUESTS [HEADER...]
--
-- REQUESTS has one request a line: a path, a tab, and the Cookie header's value (may be
-- empty). Each thread goes round the lines in order, starting at its own offset, so every
-- user and URL comes in turn. Each HEADER ("Name: value") is sent with every request.
-- At the end it prints, after wrk's own report, lines starting with "rotate.lua": the status
-- codes counted, the requests and errors, and the latency percentiles in 0.1 % steps (in
-- microseconds; 100 % is the maximum; as in wrk's own report, with its correction for
-- coordinated omission) for bench/run.py to add up.

local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  local extra = {}
  for i = 2, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    extra[name] = value
  end
  prepared = {}
  for line in io.lines(args[1]) do
    if line ~= "" then
      local path, cookie = line:match("^([^\t]*)\t?(.*)$")
      local headers = {}
      for name, value in pairs(extra) do headers[name] = value end
      if cookie ~= "" then headers["Cookie"] = cookie end
      table.insert(prepared, wrk.format("GET", path, headers))
    end
  end
  position = (offset or 0) % #prepared
  statuses = {}
end

function request()
  position = position % #prepared + 1
  return prepared[position]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counted = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      counted[status] = (counted[status] or 0) + count
    end
  end
  for status, count in pairs(counted) do
    io.write(string.format("rotate.lua status %d %d\n", status, count))
  end
  local errors = summary.errors
  io.write(string.format("rotate.lua requests %d %d\n", summary.requests, summary.duration))
  io.write(string.format("rotate.lua errors %d %d %d %d %d\n", errors.connect, errors.read,
    errors.write, errors.timeout, errors.status))
  for step = 1, 999 do
    io.write(string.format("rotate.lua latency %.1f %d\n", step / 10, latency:percentile(step / 10)))
  end
  io.write(string.format("rotate.lua latency 100.0 %d\n", latency.max))
end
