"""Request meta keys that components other than the request's own callback read or write.

Data for a callback travels in `cb_kwargs` (Scrapy's recommendation); `meta` keeps what middlewares
and extensions need to see: which outlet a request belongs to, whether it is conditional, and what
the conditional-request middleware learnt from a 304.
"""

OUTLET = "outlet"  # the slug of the outlet a request is for (stats, errors, the fetch state)
CONDITIONAL = "conditional"  # a discovery request sent with stored validators (crawler/extensions/fetch_state.py)
STORED_LINKS = "stored_links"  # on a 304: the links the listing held when it was last read
STORED_POLL_HINT = "stored_poll_hint"  # on a 304: the refresh hint it carried then
NOT_MODIFIED = "not_modified"  # the answer was a 304
