"""The chain catalogue: chains, segments, supply links and enterprise-to-segment mappings, loaded from chains/data."""
