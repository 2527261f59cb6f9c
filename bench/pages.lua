-- wrk: GET a page of the catalogue, a different one each time, so that concurrent requests
-- almost never ask for the same page and share no read (requests for the same page at the
-- same moment share one where a read is costly; crates/server/src/db/shared_reads.rs).
--   wrk -s bench/pages.lua URL             a page near the start (skip 0–200)
--   wrk -s bench/pages.lua URL -- search   a search for "song N", N from 1 to 999
local search = false

function init(args)
  search = args[1] == "search"
end

function request()
  if search then
    return wrk.format("GET", "/tracks?limit=20&q=song%20" .. math.random(1, 999))
  end
  return wrk.format("GET", "/tracks?limit=20&skip=" .. math.random(0, 200))
end
