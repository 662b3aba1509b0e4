"""The shared crawl frontier past one machine: Redis holds the requests to fetch (leased to a worker, not
popped), the fingerprints already seen (each with a lifetime) and the per-host clock every worker obeys."""
