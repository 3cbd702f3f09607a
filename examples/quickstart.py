"""Differentiate a small neural-network loss and show the generated code.

Run:  python examples/quickstart.py
"""

import numpy as np

import sourcegrad as sg


def loss(W, b, x, y):
    """Squared error of a one-layer tanh network."""
    h = np.tanh(W @ x + b)
    err = h - y
    return 0.5 * np.sum(err ** 2)


def main():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((3, 4))
    b = np.zeros(3)
    x = rng.standard_normal(4)
    y = np.array([0.5, -0.25, 0.0])

    value, (gW, gb) = sg.value_and_grad(loss, wrt=("W", "b"))(W, b, x, y)
    print("loss:", round(float(value), 6))
    print("d loss / d W:\n", np.round(gW, 6))
    print("d loss / d b:", np.round(gb, 6))

    sg.check_grads(loss, (W, b, x, y))
    print("gradients agree with finite differences")

    print("\nthe code sg.grad(loss, wrt=('W', 'b')) runs for these arguments:\n")
    print(sg.source(loss, mode="gradient", wrt=("W", "b"), args=(W, b, x, y)))


if __name__ == "__main__":
    main()
