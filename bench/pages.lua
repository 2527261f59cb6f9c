-- wrk: GET a page of the catalogue near the start, a different one each time (skip 0–200), so
-- that concurrent requests almost never ask for the same page and share no read (on
-- PostgreSQL, requests for the same page at the same moment share one; db/shared_reads.rs).
request = function()
  return wrk.format("GET", "/tracks?limit=20&skip=" .. math.random(0, 200))
end
