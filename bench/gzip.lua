-- wrk script: GET the URL as a phone does, asking for a compressed answer.
wrk.headers["Accept-Encoding"] = "gzip"
