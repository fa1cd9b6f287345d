"""``python -m demandsim``: the same as the ``demandsim`` command."""

from demandsim.entry import main

main()
