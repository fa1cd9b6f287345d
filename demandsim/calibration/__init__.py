"""Calibration: fitted parameters from a council's own data or from the DfE published tables.

Calibration produces parameters (a partial scenario a scenario file names with
``calibration = "parameters.toml"``); it never imports the simulation model, and the model never
imports Prophet.
"""
