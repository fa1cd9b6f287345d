"""``demandsim serve``: the scenario explorer in the browser (levers, queued runs, results)."""
