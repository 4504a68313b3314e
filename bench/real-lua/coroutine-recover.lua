-- A coroutine that continues after a recoverable error did not count its C calls, so
-- nesting coroutines that way overflows the C stack (fixed by 74d99057).
local function foo ()
  pcall(1)
  coroutine.wrap(foo)()
end
pcall(foo)
