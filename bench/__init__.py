"""Benchmarks on generated data at zone, city and province scale (``make bench``; not part of ``make test``)."""
