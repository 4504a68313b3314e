-- The iterator of string.gmatch keeps its match state across calls; after an error the
-- recursion counter is left at -1 and the next call recurses without limit (fixed by efddc230).
local N = 200000
local iter = string.gmatch(string.rep("a", N), string.rep("a?", N))
pcall(iter)
pcall(iter)
