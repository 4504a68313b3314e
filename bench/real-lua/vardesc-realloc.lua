-- Lua's localstat kept a pointer into the array of local variables across the parse of its
-- expression list; a nested function declaring many locals reallocates that array (fixed by
-- e70f275f). AddressSanitizer reports the read through the stale pointer.
local <const> k = (function ()
  local a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20
  local b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19, b20
  local c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, c20
  return 1
end)()
