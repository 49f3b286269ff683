-- The wrk script of every arm (bench/wrk.mjs sets the environment):
--   BENCH_COOKIES     whitespace-separated `name=value` cookies; empty: no cookie
--   BENCH_PER_THREAD  how many of them each thread takes (default 1): thread i takes the
--                     i-th group and sends them in turn
--   BENCH_FOLLOW=1    follow Set-Cookie (the rotation arm): a response's new token replaces
--                     the cookie its request sent
--   BENCH_TRACK=1     sum the gate's Server-Timing (gate;dur, origin;dur)
--   BENCH_STOP_AFTER  stop each thread after this many responses (the soak's request bound)
--   BENCH_UNIQUE      a tag, unique to the run: every request gets its own `?sub=<tag>-t<thread>-<n>`
--                     (the login arm: each request logs a different user in, as logins do)
--   BENCH_COOKIE_EXTRA  appended to every Cookie header after "; " (the scaling note's large
--                     Cookie headers: the session cookie first, then other cookies)
--   BENCH_DEBUG=1     print each response other than 2xx (thread, session, status) to stderr
-- Every thread has exactly one connection (bench/wrk.mjs sees to it), so a response always
-- answers the thread's last request. That is what lets this script time each request
-- itself, with CLOCK_MONOTONIC through LuaJIT's FFI: wrk's own latency statistics are not
-- usable here (Debian's wrk 4.1.0 reports a mean and a p99 several times what the requests
-- could have taken, at one connection more than the run's whole duration). done() prints
-- one line: BENCH_RESULT <json>, with the percentiles of these timings.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *time);
]]
local CLOCK_MONOTONIC = 1
local clock = ffi.new("bench_timespec")
local function micros()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) * 1e6 + tonumber(clock.tv_nsec) / 1e3
end

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

local function split(text)
  local list = {}
  for item in string.gmatch(text or "", "%S+") do table.insert(list, item) end
  return list
end

function init(args)
  ok, bad, rotated, timed, gate_sum, origin_sum, seen = 0, 0, 0, 0, 0, 0, 0
  latencies = {}
  started = 0
  local cookies = split(os.getenv("BENCH_COOKIES"))
  local per = tonumber(os.getenv("BENCH_PER_THREAD") or "1")
  jar = {}
  for i = 1, per do
    if #cookies > 0 then jar[i] = cookies[(((index - 1) * per + i - 1) % #cookies) + 1] end
  end
  turn = 0
  follow = os.getenv("BENCH_FOLLOW") == "1"
  track = os.getenv("BENCH_TRACK") == "1"
  stop_after = tonumber(os.getenv("BENCH_STOP_AFTER") or "0")
  debug = os.getenv("BENCH_DEBUG") == "1"
  unique = os.getenv("BENCH_UNIQUE") or ""
  extra = os.getenv("BENCH_COOKIE_EXTRA") or ""
  sent = 0
  prepared = {}
  for i = 1, #jar do
    wrk.headers["Cookie"] = cookie_header(jar[i])
    prepared[i] = wrk.format()
  end
  if #jar == 0 then prepared[1] = wrk.format() end
end

function cookie_header(pair)
  if extra == "" then return pair end
  return pair .. "; " .. extra
end

function request()
  turn = (turn % #prepared) + 1
  started = micros()
  if unique ~= "" then
    sent = sent + 1
    return wrk.format(nil, string.format("%s?sub=%s-t%d-%d", wrk.path, unique, index, sent))
  end
  return prepared[turn]
end

local function header(headers, wanted)
  for name, value in pairs(headers) do
    if string.lower(name) == wanted then return value end
  end
  return nil
end

function response(status, headers, body)
  latencies[#latencies + 1] = micros() - started
  seen = seen + 1
  if status >= 200 and status < 300 then ok = ok + 1 else
    bad = bad + 1
    if debug then io.stderr:write(string.format("thread %d session %d: status %d\n", index, turn, status)) end
  end
  if follow then
    local set = header(headers, "set-cookie")
    if set then
      local pair = string.match(set, "^([^;]+)")
      if pair and pair ~= jar[turn] then
        jar[turn] = pair
        wrk.headers["Cookie"] = cookie_header(pair)
        prepared[turn] = wrk.format()
        rotated = rotated + 1
      end
    end
  end
  if track then
    local timing = header(headers, "server-timing")
    if timing then
      local gate = string.match(timing, "gate;dur=([%d%.]+)")
      local origin = string.match(timing, "origin;dur=([%d%.]+)")
      if gate then
        timed = timed + 1
        gate_sum = gate_sum + tonumber(gate)
        origin_sum = origin_sum + tonumber(origin or "0")
      end
    end
  end
  if stop_after > 0 and seen >= stop_after then wrk.thread:stop() end
end

function done(summary, latency, requests)
  local totals = { ok = 0, bad = 0, rotated = 0, timed = 0, gate_sum = 0, origin_sum = 0 }
  local all = {}
  for _, thread in ipairs(threads) do
    for name, _ in pairs(totals) do totals[name] = totals[name] + (thread:get(name) or 0) end
    for _, value in ipairs(thread:get("latencies") or {}) do all[#all + 1] = value end
  end
  table.sort(all)
  local sum = 0
  for _, value in ipairs(all) do sum = sum + value end
  local function percentile(p)
    if #all == 0 then return 0 end
    return all[math.max(1, math.ceil(#all * p / 100))]
  end
  local e = summary.errors
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_us":%d', summary.duration),
    string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}', e.connect, e.read, e.write, e.status, e.timeout),
    string.format('"latency_us":{"n":%d,"mean":%.1f,"p50":%.1f,"p90":%.1f,"p99":%.1f,"max":%.1f}', #all,
      #all > 0 and sum / #all or 0, percentile(50), percentile(90), percentile(99), all[#all] or 0),
  }
  for name, value in pairs(totals) do table.insert(fields, string.format('"%s":%.6f', name, value)) end
  -- The cookies each thread ended with (the newest tokens, when following rotations).
  local final = {}
  for _, thread in ipairs(threads) do
    for _, pair in ipairs(thread:get("jar") or {}) do table.insert(final, '"' .. pair .. '"') end
  end
  table.insert(fields, '"cookies":[' .. table.concat(final, ",") .. ']')
  io.write("BENCH_RESULT {" .. table.concat(fields, ",") .. "}\n")
end
