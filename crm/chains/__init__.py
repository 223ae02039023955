"""The industrial-chain pages: chain map, gap report (HTML, Excel), enterprise mapping, admin edits."""
