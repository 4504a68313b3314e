-- coroutine.close running a __close that closes another coroutine did not count C calls:
-- a long chain overflows the C stack (fixed by 1e64c139). Uses the 'local x <close>' syntax.
local coro = false
for i = 1, 20000 do
  local previous = coro
  coro = coroutine.create(function ()
    local cc <close> = setmetatable({}, {__close = function ()
      if previous then coroutine.close(previous) end
    end})
    coroutine.yield()
  end)
  coroutine.resume(coro)
end
coroutine.close(coro)
