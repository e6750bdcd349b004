"""A tiny circuit the CLI tests reference as 'cli_tiny_circuit:Tiny' (fast to set up and prove)."""

from zkmargin.circuits import Circuit, param, public, secret
from zkmargin.circuits.std import rangecheck


class Tiny(Circuit):
    """sum(amounts) * price >= threshold with 8-bit amounts."""

    n = param(default=2)
    threshold = public()
    price = public()
    amounts = secret(shape="n")

    def define(self, api):
        total = api.const(0)
        for a in self.amounts:
            rangecheck.assert_bits(api, a, bits=8)
            total = total + a
        with api.scope("solvency"):
            rangecheck.assert_bits(api, total * self.price - self.threshold, bits=32)
