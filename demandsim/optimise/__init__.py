"""``demandsim optimise``: the cheapest plan that meets a service target.

Covers: a target stated as data (:mod:`.target`), a search over the plan's levers on common
random numbers with Optuna (:mod:`.search`), the cost-risk frontier and its chart
(:mod:`.plots`), and the command that confirms the chosen plan on fresh seeds and writes the
usual results folder (:mod:`.command`).

Assumptions: a plan is a set of ``--set`` overrides of one base scenario, so every plan is a
validated scenario and the model reads nothing else; cost is the expected total cost from the
KPI rows plus any premium agency contract, which the model does not price itself.
"""
