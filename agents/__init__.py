"""Update rules that play gangames' seats (the min-max solvers of the literature).

Each rule is a pure ``(init, update)`` pair over ``(B, d)`` tensors that talks to the
game only through its seat's oracle view (:class:`gangames.oracle.SeatOracle`).
"""
