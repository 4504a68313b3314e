-- The iterator of string.gmatch keeps its match state across calls; after an error the
-- recursion counter is left at -1 and the next call recurses without limit (fixed by efddc230).
local subject = ("x"):rep(200000)
local next_match = subject:gmatch(("x?"):rep(200000))
for _ = 1, 2 do pcall(next_match) end
