"""SP-API simulator: a local Amazon (never deployed). See README.md."""

from .simulator import Simulator

__all__ = ["Simulator"]
