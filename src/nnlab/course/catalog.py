"""Every question, problem and exercise of the seed documents, in each document's own order
and numbering, with the run that answers it (see `nnlab.course.Item` for the fields and
`nnlab.course` for how a run is matched). `tests/test_course.py` checks this list against the
numbered items it finds in `../shared/seeds/`.

Answers are `str.format` templates over the run's summary.json; `{{` and `}}` are braces.
"""

from __future__ import annotations

from nnlab.course import seed000, seed001, seed002, seed003, seed004

ITEMS = seed000.ITEMS + seed001.ITEMS + seed002.ITEMS + seed003.ITEMS + seed004.ITEMS
