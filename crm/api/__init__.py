"""The open API (/api/v1/): JSON over the same services and the one policy, with bearer tokens."""
