"""demandsim: workforce and demand forecasting simulation for children's social care."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("demandsim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
