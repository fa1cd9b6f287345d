"""``demandsim outlook``: the early warning from a council's latest data.

Covers: the chance each team's unallocated cases pass its threshold in each of the next 4-26
weeks, and the expected backlog with its band, from replications of the model started from the
council's snapshot (:mod:`.command`, :mod:`.weekly`); the least agency request today that keeps
that chance below a level, on common random numbers (:mod:`.act`); the council's data as it
stood on a past date (:mod:`.asof`) and the back-test of the warning against the demo's own
backlog (:mod:`.backtest`); the settings and their checks (:mod:`.settings`).
"""
