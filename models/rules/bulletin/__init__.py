"""The bulletin's pure rules: from the history as it stood at a period's end to its figures.

- ``editions``: internal and public;
- ``periods``: the week, month or days a bulletin covers, and the period before;
- ``history``: what the figures are computed from (loaded by models/store/bulletin_history.py),
  with names and units as they stood at any instant;
- ``standing``: each milestone as it stood at a period's end;
- ``headline``, ``ranking``, ``items``, ``indicators``: each table's rows and how they are filled;
- ``figures``: the definitions, the whole ``Figures`` and ``compute``.
"""
