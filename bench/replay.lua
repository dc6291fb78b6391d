-- wrk replays a list of requests that bench.serve wrote, one file per wrk thread, in order.
-- Arguments after `--`: the files' common prefix (thread n reads "<prefix>.<n>") and, optionally,
-- where each thread starts in its file ("12,40"), so a run goes on where the last one stopped.
-- At the end it prints, per thread, how many requests it sent, how many times it went past the
-- end of its list (and so repeated requests), and how many answers were not a 200.

local threads, count = {}, 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  requests, issued, wraps, bad = {}, 0, 0, 0
  local starts = {}
  for start in string.gmatch(args[2] or "", "%d+") do table.insert(starts, tonumber(start)) end
  for line in io.lines(args[1] .. "." .. id) do
    local fields = {}
    for field in string.gmatch(line .. "\t", "([^\t]*)\t") do table.insert(fields, field) end
    local headers = {}
    for k = 4, #fields do
      local name, value = string.match(fields[k], "^([^:]+): (.*)$")
      headers[name] = value
    end
    local body = nil
    if fields[3] ~= "" then body = fields[3] end
    table.insert(requests, wrk.format(fields[1], fields[2], headers, body))
  end
  position = starts[id + 1] or 0
end

function request()
  if position >= #requests then
    position = 0
    wraps = wraps + 1
  end
  position = position + 1
  issued = issued + 1
  return requests[position]
end

function response(status)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, all)
  for _, thread in ipairs(threads) do
    io.write(string.format("bench-thread %d position %d issued %d wraps %d bad %d\n",
      thread:get("id"), thread:get("position"), thread:get("issued"), thread:get("wraps"),
      thread:get("bad")))
  end
end
