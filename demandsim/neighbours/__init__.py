"""``demandsim neighbours``: a council against its statistical neighbours and England.

:mod:`demandsim.neighbours.table` builds the tidy comparison from the DfE tables (the measures
are declared there once); :mod:`demandsim.neighbours.report` writes the terminal table, charts,
HTML page, workbook and results folder; :mod:`demandsim.neighbours.cli` is the command. This
file imports nothing, so ``demandsim neighbours --help`` answers without loading pandas.
"""
