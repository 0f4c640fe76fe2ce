-- wrk script: POST a redemption through the real JSON API for a random card of the bench's
-- cards, each request with a fresh Idempotency-Key (so every one is a real redemption).
local tokens = {}
for line in io.lines(os.getenv("TOKENS")) do tokens[#tokens + 1] = line end
local key = os.getenv("API_KEY")
local counter = 0
local threads = {}
-- thread_id is set per thread by setup() below (a global of that thread's Lua state)

function setup(thread)
  thread:set("thread_id", #threads + 1)
  threads[#threads + 1] = thread
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_id * 7919)
end

request = function()
  counter = counter + 1
  local token = tokens[math.random(1, #tokens)]
  local body = '{"card": "' .. token .. '", "bill_fen": 12345}'
  return wrk.format("POST", "/api/v1/redemptions", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. key,
    ["Idempotency-Key"] = string.format("bench-%d-%d-%d", thread_id, counter, math.random(1, 1000000000)),
  }, body)
end
