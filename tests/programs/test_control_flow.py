"""A corpus of user programs with control flow, each differentiated in reverse mode.

Branches (``if``/``elif``/``else``, ``a if c else b``, ``and``/``or``/``not``),
``for`` loops over ranges, rows, lists, ``enumerate``, ``zip`` and
``reversed``, ``while`` loops, ``break``, ``continue`` and early ``return``:
alone and combined.
Every program is a module-level function written the way a NumPy user would
write it, checked with ``sourcegrad.check_grads`` and against an elementwise
central-difference gradient computed here, independently of the library.
Inputs keep every branch decision at least a step away from its boundary, so
a finite difference never crosses a switch; a function whose branches both
matter is registered once per side.  The last tests read the generated code.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import sourcegrad
from tests.programs.helpers import Corpus, arrays, check_program

arr = arrays(2)

corpus = Corpus()
program = corpus.program


# -- if / elif / else ----------------------------------------------------------

@program(arr(3), case="then")
@program(-arr(3), case="else")
def if_else(x):
    if np.sum(x) > 0:
        y = x * x
    else:
        y = np.sin(x)
    return np.sum(y)


@program(arr(3, 4), arr(4), 1.0, case="then", wrt=(0, 1))
@program(arr(3, 4), arr(4), -1.0, case="else", wrt=(0, 1))
def else_sees_the_value_before_the_if(x, y, c):
    """The else branch reads ``a`` as it was before the ``if`` (an array),
    not as the then-branch left it (a scalar): ``y``'s gradient is summed."""
    a = x * 2.0
    if c > 0:
        a = np.sum(x)
        d = a * y
    else:
        d = a + y
    return np.sum(d * d)


@program(arr(3), case="taken")
@program(-arr(3), case="not_taken")
def if_without_else(x):
    y = x * 2.0
    if np.sum(x) > 0:
        y = y * y
    return np.sum(y)


@program(arr(3, low=2.0, high=3.0), case="if")
@program(arr(3, low=0.1, high=0.5), case="elif")
@program(-arr(3), case="else")
def elif_chain(x):
    s = np.sum(x)
    if s > 4.0:
        y = np.exp(x)
    elif s > 0.0:
        y = x ** 3
    else:
        y = np.cos(x) * x
    return np.sum(y)


@program(arr(3), arr(3), case="first", wrt=(0, 1))
@program(arr(3) + 3.0, arr(3), case="second", wrt=(0, 1))
@program(arr(3) + 6.0, arr(3), case="third", wrt=(0, 1))
@program(arr(3) + 9.0, arr(3), case="fourth", wrt=(0, 1))
def elif_four_ways_two_inputs(x, w):
    m = np.mean(x)
    if m < 2.5:
        out = np.sum(x * w)
    elif m < 5.5:
        out = np.sum(x * x * w)
    elif m < 8.5:
        out = np.sum(np.sqrt(x) * w)
    else:
        out = np.sum(np.log(x)) * np.sum(w)
    return out


@program(arr(3), arr(3), case="pp", wrt=(0, 1))
@program(arr(3), -arr(3), case="pn", wrt=(0, 1))
@program(-arr(3), arr(3), case="np", wrt=(0, 1))
@program(-arr(3), -arr(3), case="nn", wrt=(0, 1))
def nested_ifs(x, y):
    if np.sum(x) > 0:
        if np.sum(y) > 0:
            z = x * y
        else:
            z = x - y
    else:
        if np.sum(y) > 0:
            z = np.exp(x) * y
        else:
            z = x * x * y
    return np.sum(z)


@program(arr(3), case="inner_taken")
@program(arr(3) + 2.0, case="inner_not_taken")
@program(-arr(3), case="outer_not_taken")
def nested_if_without_else(x):
    y = x
    if np.sum(x) > 0:
        y = y * 3.0
        if np.max(x) < 2.0:
            y = np.sin(y)
    return np.sum(y * x)


@program(arr(3), 0.7, case="positive", wrt=(0, 1))
@program(arr(3), -0.7, case="negative", wrt=(0, 1))
def branch_on_a_python_float(x, a):
    if a > 0:
        b = a * a
    else:
        b = -a * 3.0
    return np.sum(x * b)


@program(arr(3), case="then")
@program(-arr(3), case="else")
def branch_reads_value_computed_before(x):
    t = np.tanh(x)
    s = np.sum(t)
    if s > 0:
        out = s * s
    else:
        out = np.sum(t * x)
    return out


@program(arr(3), case="then")
@program(-arr(3), case="else")
def same_value_both_branches_different_paths(x):
    y = np.exp(x)
    if np.sum(x) > 0:
        z = y * 2.0
        z = z + x
    else:
        z = x * 3.0
    return np.sum(z * y)


# -- conditional expressions and boolean operators -----------------------------

@program(arr(3), case="then")
@program(-arr(3), case="else")
def conditional_expression(x):
    y = x * x if np.sum(x) > 0 else -x * 2.0
    return np.sum(y)


@program(arr(3), case="then")
@program(-arr(3), case="else")
def conditional_expression_inside_expression(x):
    return np.sum(x * (2.0 if x[0] > 0 else 3.0) + np.sin(x))


@program(arr(3), case="then")
@program(-arr(3), case="else")
def conditional_expression_in_a_return(x):
    return np.sum(np.exp(x)) if np.mean(x) > 0 else np.sum(x ** 2)


@program(arr(3), case="first")
@program(-arr(3) * 0.1, case="second")
@program(-arr(3), case="third")
def nested_conditional_expressions(x):
    s = np.sum(x)
    y = x * 2.0 if s > 0 else (np.sin(x) if s > -1.0 else x * x)
    return np.sum(y)


@program(arr(3), arr(3), case="both", wrt=(0, 1))
@program(arr(3), -arr(3), case="first_only", wrt=(0, 1))
@program(-arr(3), arr(3), case="second_only", wrt=(0, 1))
def and_in_condition(x, y):
    if np.sum(x) > 0 and np.sum(y) > 0:
        z = x * y
    else:
        z = x + y * y
    return np.sum(z)


@program(arr(3), -arr(3), case="first", wrt=(0, 1))
@program(-arr(3), arr(3), case="second", wrt=(0, 1))
@program(-arr(3), -arr(3), case="neither", wrt=(0, 1))
def or_in_condition(x, y):
    if np.sum(x) > 0 or np.sum(y) > 0:
        z = np.sin(x) * y
    else:
        z = x * y * y
    return np.sum(z)


@program(arr(3), case="not_true")
@program(-arr(3), case="not_false")
def not_in_condition(x):
    if not np.sum(x) > 0:
        y = x * x
    else:
        y = x * 5.0
    return np.sum(y)


@program(arr(3), arr(3), 1.0, case="taken", wrt=(0, 1))
@program(arr(3), -arr(3), 1.0, case="and_fails", wrt=(0, 1))
@program(-arr(3), arr(3), -1.0, case="or_fails", wrt=(0, 1))
def and_or_not_combined(x, y, c):
    if (np.sum(x) > 0 and not np.sum(y) < 0) or c < 0:
        z = x * np.exp(y)
    else:
        z = x - y
    return np.sum(z * z)


@program(-0.5, case="negative")
@program(2.5, case="positive")
def short_circuit_avoids_log_of_a_negative(a):
    # math.log raises ValueError on a negative: the right operand must not run
    if a > 0 and math.log(a) > 0.5:
        y = a * math.log(a)
    else:
        y = a * a
    return y


@program(-0.5, case="negative")
@program(2.5, case="positive")
def short_circuit_or_avoids_log(a):
    if a <= 0 or math.log(a) < 0.5:
        y = a * 3.0
    else:
        y = math.log(a) * a
    return y


@program(-0.5, case="negative")
@program(2.5, case="positive")
def conditional_expression_avoids_log(a):
    return math.log(a) * a if a > 0 else a * a


@program(arr(3), case="positive")
@program(-arr(3), case="negative")
def and_or_values_in_conditional_expressions(x):
    ok = np.sum(x) > 0 and np.min(x) > 0.1
    return np.sum(np.log(x) if ok else x * x)


# -- the test variable reassigned inside a branch, one-branch variables -----------

@program(arr(3), case="then")
@program(arr(3) * 0.1, case="else")
def reassigning_the_tested_variable(x):
    s = np.sum(x)
    if s > 1.0:
        s = s * s
    return s * np.sum(x)


@program(arr(3), case="then_then")
@program(np.array([1.0, 3.0, 4.0]), case="then_else")
@program(-arr(3), case="else")
def boolean_flag_reassigned_in_branch(x):
    flag = np.sum(x) > 0
    y = x
    if flag:
        y = y * 2.0
        flag = x[2] < 3.0
    if flag:
        y = np.sin(y)
    return np.sum(y)


@program(arr(3), case="then")
@program(-arr(3), case="else")
def branch_overwrites_its_input(x):
    if np.sum(x) > 0:
        x = x * x
    else:
        x = np.exp(x)
    return np.sum(x)


@program(arr(3), case="assigned")
@program(-arr(3), case="not_assigned")
def variable_assigned_in_one_branch(x):
    if np.sum(x) > 0:
        t = np.exp(x)
        out = np.sum(t * x)
    else:
        out = np.sum(x)
    return out


@program(arr(3), case="assigned")
@program(-arr(3), case="not_assigned")
def one_branch_variable_read_under_the_same_test(x):
    positive = np.sum(x) > 0
    if positive:
        t = np.tanh(x)
    out = np.sum(x * x)
    if positive:
        out = out + np.sum(t * x)
    return out


@program(arr(3), case="assigned")
@program(-arr(3), case="not_assigned")
def one_branch_variable_minimal(x):
    c = np.sum(x) > 0
    if c:
        t = np.tanh(x)
    out = np.sum(x)
    if c:
        out = out + np.sum(t)
    return out


# -- several returns -----------------------------------------------------------

@program(arr(3), case="first")
@program(-arr(3), case="second")
def two_returns(x):
    if np.sum(x) > 0:
        return np.sum(x * x)
    return np.sum(np.exp(x))


@program(arr(3) + 2.0, case="first")
@program(arr(3), case="second")
@program(-arr(3), case="third")
def three_returns(x):
    s = np.sum(x)
    if s > 6.0:
        return s * s
    elif s > 0.0:
        y = np.sqrt(x)
        return np.sum(y * x)
    return np.sum(x ** 3)


@program(arr(3), arr(3), case="inner_first", wrt=(0, 1))
@program(arr(3), -arr(3), case="inner_second", wrt=(0, 1))
@program(-arr(3), arr(3), case="fall_through", wrt=(0, 1))
def return_inside_nested_branches(x, y):
    z = x * y
    if np.sum(x) > 0:
        if np.sum(y) > 0:
            return np.sum(z * z)
        else:
            z = z + 1.0
            return np.sum(np.sin(z))
    z = z * 3.0
    return np.sum(z * x)


@program(arr(3), case="early")
@program(-arr(3), case="late")
def return_then_more_code(x):
    y = x * 2.0
    if np.sum(x) > 0:
        return np.sum(y)
    y = y * y
    y = np.exp(y) + x
    return np.sum(y)


# -- for over range ------------------------------------------------------------

@program(arr(4))
def sum_over_range(x):
    s = 0.0
    for i in range(4):
        s = s + x[i] * x[i]
    return s


@program(arr(5))
def range_with_start_and_stop(x):
    s = x[0]
    for i in range(1, 5):
        s = s * x[i] + 1.0
    return s


@program(arr(7))
def range_with_step(x):
    s = 0.0
    for i in range(1, 7, 2):
        s = s + np.sin(x[i]) * x[i - 1]
    return s


@program(arr(5))
def range_with_negative_step(x):
    s = 1.0
    for i in range(4, -1, -1):
        s = s * 0.5 + x[i] * s
    return s


@program(arr(6))
def range_with_negative_step_two(x):
    s = 0.0
    for i in range(len(x) - 1, 0, -2):
        s = s + x[i] * x[i - 1]
    return s


@program(arr(4))
def range_over_the_length(x):
    s = 0.0
    for i in range(len(x)):
        s = s + np.exp(x[i])
    return s


@program(arr(3), 4)
def range_over_an_argument(x, n):
    y = x
    for _ in range(n):
        y = np.sin(y) + x
    return np.sum(y)


@program(arr(4), arr(4), wrt=(0, 1))
def scalar_accumulation(x, w):
    s = 0.0
    for i in range(x.shape[0]):
        s += x[i] * w[i]
    return s


@program(arr(4))
def accumulation_with_plain_add(x):
    s = 0.0
    for i in range(x.shape[0]):
        s = s + x[i]
    return s * s


@program(arr(3))
def product_over_range(x):
    p = 1.0
    for i in range(3):
        p *= x[i]
    return p


@program(arr(3))
def vector_accumulation(x):
    acc = np.zeros(3)
    for k in range(3):
        acc = acc + x ** (k + 1)
    return np.sum(acc)


@program(arr(3), case="positive")
def loop_overwrites_a_parameter(x):
    for i in range(3):
        x = np.sin(x) + 0.5 * x
    return np.sum(x)


@program(arr(3))
def loop_variable_read_after_the_loop(x):
    s = 0.0
    for i in range(4):
        s = s + np.sum(x) * i
    return s * i


@program(arr(3, 2))
def loop_item_read_after_the_loop(X):
    s = 0.0
    for row in X:
        s = s + np.sum(row)
    return s * np.sum(row * row)


@program(arr(3), arr(3), wrt=(0, 1))
def two_loops_in_sequence(x, y):
    s = 0.0
    for i in range(3):
        s = s + x[i] * y[i]
    t = s
    for i in range(3):
        t = t * y[i] + x[i]
    return t


@program(arr(4))
def index_arithmetic(x):
    s = 0.0
    for i in range(1, 4):
        d = x[i] - x[i - 1]
        s = s + d * d
    return s


@program(arr(4))
def slice_reads_in_a_loop(x):
    s = 0.0
    for i in range(1, 4):
        s = s + np.sum(x[:i] * x[i])
    return s


@program(arr(3), case="zero")
def zero_iterations(x):
    s = np.sum(x * x)
    for i in range(0):
        s = s * x[i]
    return s


@program(arr(3), 0, case="argument")
def zero_iterations_from_an_argument(x, n):
    y = x * 2.0
    for i in range(n):
        y = np.exp(y)
    return np.sum(y)


@program(arr(0, 3), arr(3), wrt=(0, 1))
def zero_rows(X, b):
    s = np.sum(b * b)
    for row in X:
        s = s + np.sum(row * b)
    return s


# -- for over rows, lists, tuples, enumerate, zip -------------------------------

@program(arr(4, 3))
def rows_of_a_matrix(X):
    s = 0.0
    for row in X:
        s = s + np.sum(row * row)
    return s


@program(arr(4, 3), arr(3), wrt=(0, 1))
def rows_with_a_weight(X, w):
    s = 0.0
    for x in X:
        s = s + np.tanh(np.dot(w, x))
    return s


@program(arr(2, 3, 2))
def rows_of_a_3d_array(T):
    s = 0.0
    for M in T:
        s = s + np.sum(M @ M.T)
    return s


@program([arr(3), arr(2), arr(4)], 1.5, wrt=1)
def over_a_list_argument(xs, w):
    s = 0.0
    for x in xs:
        s = s + np.sum(np.sin(w * x))
    return s


@program((arr(3), arr(3)), arr(3), wrt=1)
def over_a_tuple_argument(xs, w):
    s = 0.0
    for x in xs:
        s = s + np.sum(x * w * w)
    return s


@program([arr(3), arr(2), arr(4)], case="list")
@program((arr(3), arr(3)), case="tuple")
def gradient_with_respect_to_a_list(xs):
    s = 0.0
    for x in xs:
        s = s + np.sum(x * x)
    return s


@program(arr(2, 3), arr(3), wrt=(0, 1))
def over_a_local_list(X, y):
    parts = [X[0] * 2.0, y, X[1]]
    s = 0.0
    for p in parts:
        s = s + np.sum(p * y)
    return s


@program(arr(3), arr(3), wrt=(0, 1))
def over_a_local_tuple(x, y):
    s = 0.0
    for v in (x, y, x * y):
        s = s + np.sum(np.exp(v))
    return s


@program(arr(4, 2))
def enumerate_rows(X):
    s = 0.0
    for i, row in enumerate(X):
        s = s + i * np.sum(row * row)
    return s


@program(arr(4, 2))
def enumerate_with_start(X):
    s = 0.0
    for k, row in enumerate(X, 1):
        s = s + np.sum(row) / k
    return s


@program(arr(4, 2))
def enumerate_with_start_keyword_and_index_reuse(X):
    s = 0.0
    for k, row in enumerate(X, start=2):
        s = s + np.sum(row * X[k - 2]) * k
    return s


@program(arr(3), arr(3), wrt=(0, 1))
def zip_two_vectors(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * np.exp(b)
    return s


@program(arr(3, 2), arr(3, 2), arr(3), wrt=(0, 1, 2))
def zip_three(X, Y, c):
    s = 0.0
    for x, y, k in zip(X, Y, c):
        s = s + np.sum(x * y) * k
    return s


@program(arr(4), arr(3), wrt=(0, 1))
def zip_of_unequal_lengths(x, y):
    s = 0.0
    for a, b in zip(x, y):
        s = s + a * b * b
    return s


@program(arr(3, 2), arr(3, 2), wrt=(0, 1))
def enumerate_zip(X, Y):
    s = 0.0
    for i, (x, y) in enumerate(zip(X, Y)):
        s = s + (i + 1) * np.sum(x * np.sin(y))
    return s


@program(arr(4), 0.7, wrt=(0, 1))
def horner_with_reversed_range(c, t):
    p = 0.0
    for i in reversed(range(len(c))):
        p = p * t + c[i]
    return p


@program(arr(5))
def reversed_range_with_start(x):
    s = 0.0
    for i in reversed(range(1, 5)):
        s = s * x[i] + x[i - 1]
    return s


@program(arr(6))
def reversed_range_with_step(x):
    s = 1.0
    for i in reversed(range(0, 6, 2)):
        s = s * x[i] + x[i + 1]
    return s


@program(arr(4, 2) - 1.0, wrt=0)
def reversed_rows_backward_rnn(X):
    h = np.zeros(2)
    for row in reversed(X):
        h = np.tanh(h * 0.5 + row)
    return np.sum(h * h)


@program(arr(4))
def enumerate_reversed(x):
    s = 0.0
    for k, v in enumerate(reversed(x)):
        s = s + v * k * v
    return s


@program(arr(3), arr(3), wrt=(0, 1))
def zip_with_reversed(x, y):
    s = 0.0
    for a, b in zip(x, reversed(y)):
        s = s + a * b * b
    return s


@program(arr(3), arr(3), wrt=(0, 1))
def zip_into_one_name(x, y):
    s = 0.0
    for pair in zip(x, y):
        s = s + pair[0] * np.sin(pair[1])
    return s


@program(arr(3, 2))
def enumerate_into_one_name(X):
    s = 0.0
    for pair in enumerate(X * 2.0, 1):
        s = s + np.sum(pair[1]) * pair[0]
    return s


@program(arr(3, 2))
def enumerate_start_the_body_reassigns(X):
    n = 1
    s = 0.0
    for k, row in enumerate(X, n):
        n = n + 5
        s = s + np.sum(row * row) * k
    return s


@program(arr(3, 2))
def enumerate_counter_reassigned_in_body(X):
    s = 0.0
    for i, row in enumerate(X):
        i = i * 2 + 1
        s = s + np.sum(row) * i
    return s


@program(arr(6))
def range_variable_reassigned_in_body(x):
    s = 0.0
    for i in range(3):
        i = i * 2
        s = s + x[i] * x[i + 1]
    return s


@program(arr(7))
def range_bound_reassigned_in_body(x):
    n = 3
    s = 0.0
    for i in range(n):
        n = n + 1
        s = s + x[i] * n
    return s


@program(arr(2, 3))
def iterating_over_an_expression(X):
    s = 0.0
    for column in X.T:
        s = s + np.prod(column)
    return s


@program(arr(4))
def loop_target_shadows_the_iterable(x):
    s = 0.0
    for x in x:
        s = s + x * x
    return s


@program(arr(3), arr(2, 3), wrt=(0, 1))
def loop_target_shadows_a_parameter(x, X):
    s = np.sum(x * x)
    for x in X:
        s = s + np.sum(np.exp(x))
    return s


@program(arr(3))
def tuple_update_in_a_loop(x):
    a, b = x, x * 0.5
    for _ in range(4):
        a, b = b, a * b + x
    return np.sum(b)


@program(np.array([0.5, 1.2, 0.8, 1.4, 1.1]))
def running_max_by_branch(x):
    m = x[0]
    for i in range(1, x.shape[0]):
        if x[i] > m:
            m = x[i]
    return m * np.sum(x)


@program(np.array([0.5, 1.2, 0.8, 1.4, 1.1]))
def running_max_by_builtin(x):
    m = 0.0
    for v in x:
        m = max(m, v * v)
    return m


@program(arr(3))
def loop_that_does_nothing(x):
    for _ in range(3):
        pass
    return np.sum(x * x)


@program(arr(3))
def loop_over_arange(x):
    s = 0.0
    for k in np.arange(3):
        s = s + x[k] * k
    return s


@program(arr(3))
def while_test_computed_from_the_state(x):
    y = x
    while np.sum(y * y) < 50.0:
        y = y * 1.5
    return np.sum(y)


# -- nested loops --------------------------------------------------------------

@program(arr(3, 3), arr(3), wrt=(0, 1))
def nested_loops_matvec(A, x):
    s = 0.0
    for i in range(3):
        r = 0.0
        for j in range(3):
            r = r + A[i, j] * x[j]
        s = s + r * r
    return s


@program(arr(4))
def triangular_loops(x):
    s = 0.0
    for i in range(4):
        for j in range(i):
            s = s + x[i] * x[j]
    return s


@program(arr(4))
def triangular_loops_with_carried_product(x):
    s = 0.0
    for i in range(4):
        p = 1.0
        for j in range(i + 1):
            p = p * x[j]
        s = s + p
    return s


@program(arr(3, 2))
def nested_loops_over_rows_and_items(X):
    s = 0.0
    for row in X:
        for v in row:
            s = s + np.sin(v) * v
    return s


@program(arr(2, 2, 2))
def three_nested_loops(T):
    s = 0.0
    for i in range(2):
        for j in range(2):
            for k in range(2):
                s = s + T[i, j, k] * T[k, j, i]
    return s


@program(arr(3), arr(3), wrt=(0, 1))
def nested_loops_overwrite_outer_state(x, y):
    h = x
    for i in range(2):
        for j in range(3):
            h = np.tanh(h * y[j] + x)
        h = h * 0.5
    return np.sum(h)


# -- RNN-style carried state -------------------------------------------------------

@program(arr(3, 3) - 1.0, arr(3, 2) - 1.0, arr(4, 2), arr(3), wrt=(0, 1, 3))
def rnn(W, U, x, h0):
    h = h0
    for t in range(x.shape[0]):
        h = np.tanh(W @ h + U @ x[t])
    return np.sum(h)


@program(arr(3, 3) - 1.0, arr(4, 3), arr(3), wrt=(0, 1, 2))
def rnn_over_rows_with_loss(W, X, h0):
    h = h0
    loss = 0.0
    for x in X:
        h = np.tanh(W @ h + x)
        loss = loss + np.sum(h * h)
    return loss


@program(arr(2, 2) - 1.0, arr(5, 2), wrt=(0, 1))
def rnn_keeps_all_states(W, X):
    h = np.zeros(2)
    hs = []
    total = 0.0
    for t in range(X.shape[0]):
        h = np.tanh(W @ h + X[t])
        total = total + np.sum(h * X[t])
    return total


@program(arr(3) - 1.0, arr(3), 0.9, wrt=(0, 1, 2))
def exponential_moving_average(x, m0, beta):
    m = m0
    for i in range(3):
        m = beta * m + (1.0 - beta) * x[i]
    return np.sum(m * m)


@program(arr(2, 2) * 0.5, arr(2), wrt=(0, 1))
def matrix_power_by_loop(A, v):
    for _ in range(3):
        v = A @ v
    return np.sum(v)


@program(arr(3), case="fixed_point")
def fixed_point_iteration(x):
    y = x
    for _ in range(5):
        y = 0.5 * (y + x / y)
    return np.sum(y)


# -- loops that depend on the data ---------------------------------------------------

@program(arr(3) + 1.0)
def trip_count_from_data(x):
    n = int(np.sum(x))
    s = 0.0
    for i in range(n):
        s = s + np.sum(x) * (i + 1)
    return s


@program(arr(5) - 1.0, case="mixed")
def branch_per_item(x):
    s = 0.0
    for v in x:
        if v > 0:
            s = s + v * v
        else:
            s = s - 2.0 * v
    return s


@program(arr(6) - 1.0)
def branch_in_loop_updates_state(x):
    h = 0.0
    for i in range(6):
        if x[i] > 0:
            h = np.tanh(h + x[i])
        else:
            h = h * x[i]
    return h


@program(arr(4) - 1.0, arr(4), wrt=(0, 1))
def conditional_expression_in_loop(x, w):
    s = 0.0
    for i in range(4):
        s = s + (x[i] * w[i] if x[i] > 0 else np.exp(x[i]))
    return s


@program(arr(5) - 1.0)
def relu_by_hand(x):
    s = 0.0
    for i in range(5):
        r = x[i] if x[i] > 0 else 0.0
        s = s + r * r + x[i]
    return s


@program(arr(4) - 1.0, )
def and_in_loop_condition(x):
    s = 0.0
    for i in range(4):
        if x[i] > 0 and s < 1.0:
            s = s + x[i] * x[i]
        else:
            s = s * 0.5
    return s


@program(np.array([0.5, 1.5]), case="second_branch_taken", )
@program(np.array([1.5, 0.5]), case="first_branch_taken")
def branch_only_sets_an_inactive_value(x):
    s = 1.0
    for i in range(2):
        k = 1.0
        if x[i] > 1.0:
            k = 2.0
        s = s * k * x[i]
    return s


# -- while ---------------------------------------------------------------------

@program(arr(3), case="several")
def while_data_dependent(x):
    s = np.sum(x)
    while s < 20.0:
        s = s * 1.7
    return s


@program(arr(3) * 10.0, case="zero")
def while_zero_iterations(x):
    s = np.sum(x)
    while s < 20.0:
        s = s * 1.7
    return s


@program(arr(4))
def while_with_counter(x):
    i = 0
    s = 0.0
    while i < 4:
        s = s + x[i] * np.exp(x[i])
        i += 1
    return s


@program(arr(3))
def while_counter_and_state(x):
    y = x
    k = 0
    while k < 3:
        y = np.sin(y) * x
        k = k + 1
    return np.sum(y)


@program(arr(3) * 0.1)
def while_with_and_in_test(x):
    y = x
    k = 0
    while k < 10 and np.sum(y) < 5.0:
        y = y * 1.5 + x
        k += 1
    return np.sum(y * y)


@program(arr(3))
def while_true_with_break(x):
    y = x
    while True:
        y = y * 1.3
        if np.sum(y) > 10.0:
            break
    return np.sum(y)


@program(arr(3), 0, case="zero_counter")
def while_zero_iterations_counter(x, n):
    y = x * 2.0
    i = 0
    while i < n:
        y = np.exp(y)
        i += 1
    return np.sum(y)


@program(arr(3))
def nested_while_loops(x):
    s = 0.0
    i = 0
    while i < 3:
        j = 0
        while j < i + 1:
            s = s + x[i] * x[j]
            j += 1
        i += 1
    return s


@program(arr(3, 2))
def while_inside_for(X):
    s = 0.0
    for row in X:
        t = np.sum(row)
        while t < 5.0:
            t = t * 2.0
        s = s + t
    return s


@program(arr(3))
def for_inside_while(x):
    y = x
    while np.sum(y) < 30.0:
        for i in range(2):
            y = y * 1.2 + x * i
    return np.sum(y)


@program(arr(3) * 0.3)
def while_reads_loop_state_after(x):
    y = x
    n = 0
    while np.max(y) < 4.0:
        y = y * y + 1.0
        n += 1
    return np.sum(y) * n


# -- break and continue --------------------------------------------------------------

@program(arr(6))
def break_in_for(x):
    s = 0.0
    for i in range(6):
        if s > 2.5:
            break
        s = s + x[i] * x[i]
    return s


@program(arr(6))
def break_in_for_after_update(x):
    s = 0.0
    for v in x:
        s = s + np.exp(v)
        if s > 5.0:
            break
    return s


@program(arr(3))
def break_in_while(x):
    y = x
    k = 0
    while k < 100:
        y = y * 1.5
        k += 1
        if np.sum(y) > 20.0:
            break
    return np.sum(y * x)


@program(np.array([0.8, 1.3, 0.6, 1.7, 0.9]))
def continue_in_for(x):
    s = 0.0
    for i in range(5):
        if x[i] < 1.0:
            continue
        s = s + x[i] ** 2
    return s


@program(np.array([0.8, 1.3, 0.6, 1.7, 0.9]))
def continue_in_for_after_code(x):
    s = 0.0
    for v in x:
        t = v * 2.0
        if t < 2.0:
            continue
        s = s + t * v
    return s


@program(np.array([0.8, 1.3, 0.6, 1.7, 0.9]))
def continue_in_while(x):
    i = 0
    s = 0.0
    while i < 5:
        v = x[i]
        i += 1
        if v < 1.0:
            continue
        s = s + np.sin(v) * v
    return s


@program(np.array([0.8, 1.3, 0.6, 1.7, 0.9, 1.1, 1.4]))
def break_and_continue(x):
    s = 0.0
    for v in x:
        if v < 1.0:
            continue
        if s > 3.0:
            break
        s = s + v * v
    return s


@program(np.array([0.8, 1.3, 0.6, 1.7, 0.9, 1.1]))
def continue_inside_nested_if(x):
    s = 0.0
    for v in x:
        if v > 0.7:
            if v < 1.0:
                continue
            s = s + v
        s = s * 1.1
    return s


@program(np.array([0.6, 1.3, 1.8, 0.9, 1.1]))
def continue_in_an_elif_after_a_continue(x):
    s = 0.0
    for v in x:
        if v > 1.5:
            continue
        elif v < 1.0:
            s = s * 0.9
            continue
        s = s + v * v
    return s


@program(arr(3, 4))
def break_in_inner_loop(X):
    s = 0.0
    for row in X:
        for v in row:
            if v > 1.2:
                break
            s = s + v * v
    return s


@program(arr(3, 4))
def break_from_outer_loop_by_flag(X):
    s = 0.0
    done = False
    for row in X:
        for v in row:
            s = s + v
            if s > 5.0:
                done = True
                break
        if done:
            break
    return s * s


# -- return inside loops ----------------------------------------------------------------

@program(arr(5), case="returns_in_loop")
@program(arr(5) * 0.1, case="falls_through")
def return_inside_loop(x):
    s = 0.0
    for i in range(5):
        s = s + x[i]
        if s > 2.5:
            return s * s
    return s * 10.0


@program(np.array([0.9, 1.1, 0.9, 3.0, 1.0]), case="first_return")
@program(np.array([0.9, 1.7, 0.9, 3.0, 1.0]), case="second_return")
@program(arr(5) * 0.05, case="falls_through")
def return_inside_nested_branches_in_loop(x):
    s = 0.0
    for v in x:
        s = s + v
        if s > 1.5:
            if v < 1.5:
                return s * v
            else:
                return s + v
    return np.exp(s)


@program(arr(3))
def return_inside_while(x):
    y = x
    while True:
        y = y * 1.4
        if np.sum(y) > 12.0:
            return np.sum(y * y)


@program(arr(3))
def return_inside_while_with_a_fallback(x):
    y = x
    while np.sum(y) < 100.0:
        y = y * 1.4
        if np.sum(y) > 12.0:
            return np.sum(y * y)
    return 0.0


@program(arr(3, 4), case="returns")
@program(arr(3, 4) * 0.1, case="falls_through")
def return_inside_nested_loops(X):
    s = 0.0
    for row in X:
        for v in row:
            s = s + v * v
            if s > 4.0:
                return s
    return -s


@program(np.array([0.7, 1.3, 0.9, 1.4]), case="returns")
@program(np.array([0.7, 1.1, 0.9, 0.6]), case="falls_through")
def return_of_a_loop_value(x):
    for i in range(4):
        if x[i] > 1.2:
            return x[i] * np.sum(x)
    return np.sum(x)


# -- combinations ----------------------------------------------------------------------

@program(arr(3, 2) - 1.0, case="loop_in_branch_in_loop")
def loop_inside_branch_inside_loop(X):
    s = 0.0
    for row in X:
        if np.sum(row) > 0:
            for v in row:
                s = s + v * v
        else:
            s = s * 0.5 + np.sum(row)
    return s


@program(arr(4) - 1.0, arr(4), wrt=(0, 1))
def branch_reads_loop_variable(x, w):
    s = 0.0
    for i in range(4):
        if i % 2 == 0:
            s = s + x[i] * w[i]
        else:
            s = s * w[i]
    return s


@program(arr(3), 2, wrt=0)
def loop_in_branch(x, n):
    if np.sum(x) > 0:
        for i in range(n):
            x = x * x + 0.1
    return np.sum(x)


@program(np.array([0.7, 1.1, 1.5, 0.9]), np.array([1.0, 0.9, 1.2, 0.8]), wrt=(0, 1),
         case="breaks")
@program(np.array([0.7, 1.1, 0.5, 0.9]), np.array([1.0, 0.9, 1.2, 0.8]), wrt=(0, 1),
         case="runs_out")
def while_with_branch_and_break(x, w):
    i = 0
    s = 0.0
    while i < 4:
        if x[i] * w[i] > 1.3:
            s = s + 2.0 * x[i]
            break
        s = s + x[i] * w[i]
        i += 1
    return s * s


@program(arr(5, 2) - 1.0, arr(2), wrt=(0, 1))
def gated_rnn(X, h0):
    h = h0
    for x in X:
        gate = 1.0 / (1.0 + np.exp(-np.sum(x)))
        if gate > 0.5:
            h = gate * np.tanh(h + x) + (1.0 - gate) * h
        else:
            h = h * 0.9
    return np.sum(h * h)


@program(arr(3, 3), arr(3), wrt=(0, 1))
def power_iteration(A, v):
    for _ in range(4):
        w = A @ v
        v = w / np.sqrt(np.sum(w * w))
    return np.sum(v * (A @ v))


@program(arr(4), 2.0, wrt=(0, 1))
def newton_sqrt(x, y0):
    y = y0
    k = 0
    while k < 6:
        y = 0.5 * (y + np.sum(x) / y)
        k += 1
    return y


@program(arr(6) - 1.0, )
def soft_clip_and_count(x):
    total = 0.0
    count = 0
    for v in x:
        if v < -0.2 or v > 0.2:
            total = total + np.tanh(v)
            count += 1
    return total / count


@program(arr(4, 3), arr(3), wrt=(0, 1))
def gradient_descent_steps(X, w):
    for step in range(3):
        r = X @ w - 1.0
        w = w - 0.05 * (X.T @ r)
    return np.sum(w * w)


@program(np.array([[0.3, -0.2], [0.1, 0.4]]), arr(3, 2) - 1.0, wrt=(0, 1))
def states_appended_to_a_list_then_stacked(W, X):
    h = np.zeros(2)
    hs = []
    for x in X:
        h = np.tanh(W @ h + x)
        hs.append(h)
    return np.sum(np.stack(hs) ** 2)


@program(arr(3), case="taken")
@program(-arr(3), case="not_taken")
def while_inside_a_branch(x):
    y = x
    if np.sum(x) > 0:
        while np.sum(y) < 10.0:
            y = y * 1.5
    return np.sum(y * y)


@program(np.array([0.5, 1.2, 0.8]))
def for_with_break_inside_while(x):
    y = x
    k = 0
    while k < 3:
        for i in range(3):
            if y[i] > 1.6:
                break
            y = y * 1.2
        k += 1
    return np.sum(y)


@program(arr(3, 2) * 0.25, case="returns")
@program(arr(3, 2) + 1.0, case="never_enters_the_while")
def return_inside_while_inside_for(X):
    s = 0.0
    for row in X:
        t = np.sum(row)
        while t < 2.0:
            t = t * 2.0
            if t > 1.9:
                return t * s + t
        s = s + t
    return s


@program(arr(4) + 50.0, case="returns_a_constant")
@program(arr(4), case="return_in_loop")
@program(arr(4) * 0.2, case="return_after_loop")
@program(-arr(4), case="else")
def loop_with_return_inside_elif(x):
    if np.sum(x) > 100.0:
        return 0.0
    elif np.sum(x) > 0.0:
        s = 0.0
        for v in x:
            s = s + v
            if s > 1.5:
                return s * s
        return s
    return np.sum(x)


@program(arr(3), arr(2, 2), wrt=0)
def loop_item_unused(x, X):
    s = np.sum(x)
    for _ in X:
        s = s * 1.1 + np.sum(x * x)
    return s


@program(arr(4), np.int64(3), wrt=0)
def numpy_int_trip_count(x, n):
    s = 0
    for i in range(n):
        s = s + x[i] ** 2
    return s


@program(arr(3), arr(2), wrt=(0, 1))
def both_branches_set_an_active_temporary_in_loop(x, w):
    s = 0.0
    for i in range(3):
        if x[i] > 1.0:
            t = x[i] * w
        else:
            t = w * w
        s = s + np.sum(t)
    return s


@program(arr(3))
def item_read_from_a_value_the_loop_rebinds(x):
    for t in range(3):
        v = x[t]
        x = x * v
    return np.sum(x)


@program(arr(4))
def index_from_an_offset_the_loop_changes(x):
    k = 0
    s = 0.0
    for i in range(3):
        j = i + k
        s = s + x[j] * x[j]
        k = 1
    return s


@program(np.array([0.5, 1.2, 0.8, 1.1]))
def item_rebound_in_a_branch(x):
    s = 0.0
    for i in range(4):
        v = x[i]
        if v > 1.0:
            v = v * v
        s = s + v * x[i]
    return s


@program(arr(3))
def loop_reads_items_of_a_value_rebound_after(x):
    y = x * 1.0
    s = 0.0
    for i in range(3):
        s = s + np.sin(y[i])
    y = y * s
    return np.sum(y)


# -- dtypes through loops --------------------------------------------------------------

@program(arr(3, dtype=np.float32))
def float32_through_a_loop(x):
    y = x
    for i in range(3):
        y = np.tanh(y) * x
    return np.sum(y)


@program(arr(4, dtype=np.float32), case="float32")
def float32_accumulation(x):
    s = np.float32(0.0)
    for v in x:
        s = s + v * v
    return s


@program(arr(3, 3, dtype=np.float32) - 1.0, arr(3, dtype=np.float32), wrt=(0, 1))
def float32_rnn(W, h):
    for _ in range(3):
        h = np.tanh(W @ h)
    return np.sum(h)


@program(0.7)
def python_float_through_a_loop(a):
    for i in range(3):
        a = a * a + 0.1
    return a


@program(0.7, 1.3, wrt=(0, 1))
def python_floats_in_a_while(a, b):
    k = 0
    while k < 3:
        a = a * b + 0.1
        k += 1
    return a


@program(0.7, case="then")
@program(-0.7, case="else")
def python_float_branch_in_loop(a):
    s = 0.0
    for i in range(3):
        if a > 0:
            s = s + a * i
        else:
            s = s - a * a
    return s


@program(1.3)
def python_float_math_in_loop(a):
    s = 0.0
    for k in range(1, 4):
        s = s + math.sin(a * k) / k
    return s


@program(0.7, 0, case="zero_trips")
def python_float_with_zero_iterations(a, n):
    s = 1.0
    for i in range(n):
        s = s * a
    return s


@program(arr(3, dtype=np.float32), 0, case="zero_trips")
def float32_with_zero_iterations(x, n):
    s = np.float32(1.0)
    for i in range(n):
        s = s + np.sum(x)
    return s


# -- wrt --------------------------------------------------------------------------------

@program(arr(3), arr(3), arr(3), wrt=(2, 0))
def wrt_tuple_out_of_order_through_loop(x, y, z):
    s = 0.0
    for i in range(3):
        s = s + x[i] * z[i] + y[i]
    return s


@program(arr(3), arr(3), wrt=("y", "x"))
def wrt_names_through_while(x, y):
    k = 0
    h = x
    while k < 2:
        h = h * y + x
        k += 1
    return np.sum(h)


@program(arr(3), arr(3), wrt=(0, 1), case="inactive_in_loop")
def wrt_argument_unused_in_loop(x, y):
    s = np.sum(y)
    for i in range(3):
        s = s + x[i]
    return s


@program(arr(3), arr(3), wrt=(1,))
def wrt_one_tuple_through_loop(x, y):
    s = 0.0
    for i in range(3):
        s = s + x[i] * np.exp(y[i])
    return s


# -- the corpus, run (last: every program above is registered) -----------------------------

@pytest.mark.parametrize("f, args, kwargs, wrt, tol", corpus.params)
def test_program(f, args, kwargs, wrt, tol):
    check_program(f, args, kwargs, wrt, tol)


def test_corpus_size():
    assert len(corpus.functions) >= 90


def test_short_circuit_is_real():
    """The programs that guard ``math.log`` do raise without the guard."""
    with pytest.raises(ValueError):
        math.log(-0.5)
    assert short_circuit_avoids_log_of_a_negative(-0.5) == 0.25
    assert sourcegrad.grad(short_circuit_avoids_log_of_a_negative)(-0.5) == -1.0


def test_zero_iterations_give_zero_gradients():
    X, b = arr(0, 3), arr(3)
    gX, gb = sourcegrad.grad(zero_rows, wrt=(0, 1))(X, b)
    assert gX.shape == (0, 3)
    np.testing.assert_allclose(gb, 2 * b)
    g = sourcegrad.grad(zero_iterations_from_an_argument)(b, 0)
    np.testing.assert_allclose(g, np.full(3, 2.0))


# -- the generated code ----------------------------------------------------------------------

def pushes(text: str) -> set:
    """The names the primal sweep pushes on the tape."""
    return set(re.findall(r"tape\.append\((\w+)\)", text))


def test_rnn_pushes_the_state_and_nothing_unread():
    text = sourcegrad.source(rnn, wrt=(0, 1, 3))
    saved = pushes(text)
    assert "h" in saved
    # the sum of the two products is never read by the adjoint
    assert "add" not in saved
    # x is a parameter: never overwritten, never pushed
    assert "x" not in saved and "W" not in saved and "U" not in saved


def test_accumulation_adds_index_adjoints_in_place():
    text = sourcegrad.source(accumulation_with_plain_add)
    assert "add_at(bx, i, " in text
    assert "bx = bx +" not in text


def test_no_tape_when_the_adjoint_reads_nothing_overwritten():
    text = sourcegrad.source(loop_with_nothing_to_save)
    assert "tape" not in text, text


def loop_with_nothing_to_save(x):
    y = x
    for i in range(3):
        y = x * 2.0
    return np.sum(y)


def code_lines(text: str) -> list:
    return [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]


def test_branch_decision_is_replayed_not_recomputed():
    lines = code_lines(sourcegrad.source(if_else))
    assert sum("np.sum(x)" in line for line in lines) == 1  # computed once, in the primal
    assert lines.count("if cond:") == 2  # decided in the primal, replayed in the adjoint
