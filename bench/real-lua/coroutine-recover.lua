-- A coroutine that continues after a recoverable error did not count its C calls, so
-- nesting coroutines that way overflows the C stack (fixed by 74d99057).
local function nest ()
  pcall(error)  -- a caught error: the coroutine goes on from its recovery point
  coroutine.wrap(nest)()
end
pcall(nest)
