"""Industrial chains (产业链): definitions, graph model, gap analysis and segment suggestion.

Pure Python on top of networkx and PyYAML; nothing here imports Flask or SQLAlchemy, so the
same functions serve the web app, the CLI, the benchmarks and the tests.

- ``chains.definitions``  load and validate the chain files in ``chains/data/``
- ``chains.model``        build a networkx DiGraph of segments and lay it out left to right
- ``chains.analysis``     the gap analysis (补链 / 延链 / 强链) and choke points
- ``chains.suggest``      suggest segments for an enterprise from its name, products and industry
"""
