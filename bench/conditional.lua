-- wrk script: GET the URL as a phone does on a repeat visit: compressed, with the ETag it has.
wrk.headers["Accept-Encoding"] = "gzip"
wrk.headers["If-None-Match"] = os.getenv("BENCH_ETAG")
