-- coroutine.close running a __close that closes another coroutine did not count C calls:
-- a long chain overflows the C stack (fixed by 1e64c139). Uses the 'local x <close>' syntax.
local last
for _ = 1, 20000 do
  local before = last
  last = coroutine.create(function ()
    local guard <close> = setmetatable({}, { __close = function ()
      if before then coroutine.close(before) end
    end })
    coroutine.yield()
  end)
  coroutine.resume(last)
end
coroutine.close(last)
