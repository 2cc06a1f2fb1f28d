"""Standards as data: every expected number below is computed by hand from accuracy.md (or the
stated assumption in the YAML), never read from the data."""

from __future__ import annotations

import pytest

from meterrig.measure import judge
from meterrig.metrology import LoadPoint, MeterRating, Standard

# Ib = 5 A, Imax = 60 A, 220 V, 1200 imp/kWh: Ist (class 1) = 0.004 × 5 = 0.02 A
IEC1 = MeterRating("iec62053-21", "1", un=220, ib=5, imax=60, fn=50, constant=1200)
IEC2 = MeterRating("iec62053-21", "2", un=220, ib=5, imax=60, fn=50, constant=1200)


def mid(meter_class: str) -> MeterRating:
    # Iref = 10 A → Itr = Iref / 10 = 1 A; Imin = 0.5 A (A, B) or 0.3 A (C)
    return MeterRating("en50470-3", meter_class, un=230, ib=10, imax=80, fn=50, constant=1000)


PF = {"1": (1.0, "unity"), "0.5 ind": (0.5, "inductive"), "0.8 cap": (0.8, "capacitive")}


def at(rating: MeterRating, amps: float, pf: float = 1.0, kind: str = "unity") -> LoadPoint:
    return LoadPoint(name=f"{amps} A", current=amps, power_factor=pf, kind=kind,
                     voltage=rating.un, frequency=rating.fn)


def limit(rating: MeterRating, amps: float, pf: float = 1.0, kind: str = "unity") -> float:
    limits = Standard.for_rating(rating).accuracy_limits(rating, at(rating, amps, pf, kind))
    assert limits.low == -limits.high
    return limits.high


# --- lookup -----------------------------------------------------------------------------------

def test_unknown_standard_is_named():
    rating = MeterRating("iec62053-23", "2", un=220, ib=5, imax=60, fn=50, constant=1200)
    with pytest.raises(KeyError, match="iec62053-23"):
        Standard.for_rating(rating)


def test_unknown_class_is_named():
    rating = MeterRating("iec62053-21", "0.5S", un=220, ib=5, imax=60, fn=50, constant=1200)
    with pytest.raises(KeyError, match="0.5S"):
        Standard.for_rating(rating)


def test_rating_of_another_class_is_refused():
    with pytest.raises(ValueError, match="class 2"):
        Standard.for_rating(IEC1).starting_current(IEC2)


# --- load points ------------------------------------------------------------------------------

def test_iec_load_points():
    points = Standard.for_rating(IEC1).load_points(IEC1)
    assert [(p.name, p.current, p.power_factor, p.kind) for p in points] == [
        ("0.05 Ib PF 1", pytest.approx(0.25), 1.0, "unity"),       # 0.05 × 5
        ("0.1 Ib PF 1", pytest.approx(0.5), 1.0, "unity"),         # 0.1 × 5
        ("Ib PF 1", pytest.approx(5.0), 1.0, "unity"),
        ("Imax PF 1", pytest.approx(60.0), 1.0, "unity"),
        ("0.1 Ib PF 0.5 ind", pytest.approx(0.5), 0.5, "inductive"),
        ("0.2 Ib PF 0.5 ind", pytest.approx(1.0), 0.5, "inductive"),  # 0.2 × 5
        ("Ib PF 0.5 ind", pytest.approx(5.0), 0.5, "inductive"),
        ("Ib PF 0.8 cap", pytest.approx(5.0), 0.8, "capacitive"),
        ("Imax PF 0.5 ind", pytest.approx(60.0), 0.5, "inductive"),
    ]
    assert {(p.voltage, p.frequency) for p in points} == {(220, 50)}


def test_mid_load_points():
    points = Standard.for_rating(mid("C")).load_points(mid("C"))
    assert [(p.name, p.current) for p in points] == [
        ("Imin PF 1", pytest.approx(0.3)),           # 0.3 Itr = 0.3 × 1 A
        ("0.1 Iref PF 0.5 ind", pytest.approx(1.0)),  # 0.1 × 10 A
        ("0.1 Iref PF 1", pytest.approx(1.0)),
        ("0.1 Iref PF 0.8 cap", pytest.approx(1.0)),
        ("Iref PF 0.5 ind", pytest.approx(10.0)),
        ("Iref PF 1", pytest.approx(10.0)),
        ("Iref PF 0.8 cap", pytest.approx(10.0)),
        ("Imax PF 0.5 ind", pytest.approx(80.0)),
        ("Imax PF 1", pytest.approx(80.0)),
        ("Imax PF 0.8 cap", pytest.approx(80.0)),
    ]


@pytest.mark.parametrize("rating", [IEC1, IEC2, mid("A"), mid("B"), mid("C")],
                         ids=lambda r: f"{r.standard}-{r.meter_class}")
def test_every_load_point_is_in_exactly_one_row(rating):
    standard = Standard.for_rating(rating)
    for point in standard.load_points(rating):
        standard.accuracy_limits(rating, point)  # raises unless exactly one row holds it


@pytest.mark.parametrize(("pf", "kind", "expected"), [
    (1.0, "unity", 0.0),
    (0.5, "inductive", 60.0),          # acos 0.5 = 60°, current lags
    (0.8, "capacitive", -36.8699),     # acos 0.8 = 36.8699°, current leads
])
def test_phase(pf, kind, expected):
    assert at(IEC1, 5, pf, kind).phase_deg == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(("pf", "kind"), [(0.5, "unity"), (1.0, "inductive"), (0.8, "lagging"),
                                          (0.0, "inductive"), (1.2, "capacitive")])
def test_inconsistent_load_point_is_refused(pf, kind):
    with pytest.raises(ValueError):
        at(IEC1, 5, pf, kind)


# --- accuracy limits --------------------------------------------------------------------------

@pytest.mark.parametrize(("amps", "pf", "cl1", "cl2"), [
    (0.25, "1", 1.5, 2.5),        # 0.05 Ib = 0.25 A: first row starts here
    (0.4999, "1", 1.5, 2.5),      # just under 0.1 Ib = 0.5 A
    (0.5, "1", 1.0, 2.0),         # 0.1 Ib: second row
    (60, "1", 1.0, 2.0),          # Imax, inclusive
    (0.5, "0.5 ind", 1.5, 2.5),   # 0.1 Ib at PF 0.5 ind
    (0.9999, "0.5 ind", 1.5, 2.5),  # just under 0.2 Ib = 1.0 A
    (1.0, "0.5 ind", 1.0, 2.0),   # 0.2 Ib
    (60, "0.5 ind", 1.0, 2.0),    # Imax
    (0.5, "0.8 cap", 1.5, 2.5),   # 0.1 Ib at PF 0.8 cap
    (1.0, "0.8 cap", 1.0, 2.0),   # 0.2 Ib at PF 0.8 cap
])
def test_iec_limit_at_row_boundaries(amps, pf, cl1, cl2):
    assert limit(IEC1, amps, *PF[pf]) == cl1
    assert limit(IEC2, amps, *PF[pf]) == cl2


def test_boundary_given_as_a_literal_sits_on_the_row_boundary():
    # Ib = 3 A: the data's 0.1 × 3 is 0.30000000000000004 in floats, a bench asks for 0.3 A;
    # 0.3 A is 0.1 Ib and belongs to the 0.1 Ib…Imax row (±1.0), not the one below (±1.5)
    rating = MeterRating("iec62053-21", "1", un=220, ib=3, imax=60, fn=50, constant=1200)
    assert limit(rating, 0.3) == 1.0
    assert limit(rating, 0.6, *PF["0.5 ind"]) == 1.0   # 0.2 × 3 = 0.6000000000000001


def test_limit_source_names_standard_table_and_row():
    source = Standard.for_rating(IEC1).accuracy_limits(IEC1, at(IEC1, 0.25)).source
    assert "IEC 62053-21" in source
    assert "percentage-error limits" in source
    assert "0.05 Ib ≤ I < 0.1 Ib, PF 1" in source
    assert "class 1" in source


@pytest.mark.parametrize(("rating", "amps", "pf", "kind"), [
    (IEC1, 0.2, 1.0, "unity"),            # 0.04 Ib: below 0.05 Ib
    (IEC1, 0.25, 0.5, "inductive"),       # 0.05 Ib at PF 0.5 ind: below 0.1 Ib
    (IEC1, 60.5, 1.0, "unity"),           # above Imax
    (IEC1, 5, 0.7, "inductive"),          # PF 0.7 ind is not in the table
    (IEC1, 5, 0.5, "capacitive"),         # PF 0.5 cap is not in the table
    (mid("C"), 0.29, 1.0, "unity"),       # below Imin = 0.3 A
    (mid("A"), 0.3, 1.0, "unity"),        # below Imin = 0.5 A for class A
    (mid("C"), 10, 0.7, "capacitive"),    # beyond 0.8 cap
    (mid("C"), 10, 0.4, "inductive"),     # beyond 0.5 ind
    (mid("C"), 81, 1.0, "unity"),         # above Imax
])
def test_out_of_table_point_raises(rating, amps, pf, kind):
    with pytest.raises(ValueError, match="0 rows"):
        limit(rating, amps, pf, kind)


@pytest.mark.parametrize(("meter_class", "amps", "pf", "kind", "expected"), [
    # EN 50470-3 §8.1 at reference conditions (notes "MID", second table)
    ("C", 0.3, 1.0, "unity", 1.0),         # Imin = 0.3 × Itr (1 A): Imin ≤ I < Itr, PF 1
    ("C", 0.999, 1.0, "unity", 1.0),       # just under Itr
    ("C", 1.0, 1.0, "unity", 0.5),         # Itr: Itr ≤ I ≤ Imax, PF 1
    ("C", 80, 0.8, "capacitive", 0.6),     # Imax, range end 0.8 cap
    ("C", 10, 0.5, "inductive", 0.6),      # range end 0.5 ind
    ("C", 10, 0.6, "inductive", 0.6),      # inside 0.5 ind…0.8 cap
    ("A", 0.5, 1.0, "unity", 2.5),         # Imin = 0.5 × 1 A
    ("A", 1.0, 1.0, "unity", 2.0),
    ("A", 10, 0.5, "inductive", 2.5),
    ("B", 0.5, 1.0, "unity", 1.5),
    ("B", 1.0, 1.0, "unity", 1.0),         # Itr
    ("B", 80, 1.0, "unity", 1.0),          # Imax
    ("B", 10, 0.8, "capacitive", 1.5),
])
def test_mid_limit_at_reference_conditions(meter_class, amps, pf, kind, expected):
    assert limit(mid(meter_class), amps, pf, kind) == expected


def test_class_b_at_1_8_percent_fails():
    # Issue 8: the composite MPE (2 %) let a class B meter at +1.8 % at Iref PF 1 pass; at
    # reference conditions the limit is ±1.0 %
    rating = mid("B")
    limits = Standard.for_rating(rating).accuracy_limits(rating, at(rating, 10))
    assert not limits.admit(1.8)
    assert limits.admit(1.0) and not limits.admit(-1.01)
    assert "EN 50470-3:2006 §8.1" in limits.source
    assert "Itr ≤ I ≤ Imax, PF 1" in limits.source


def test_mid_pf_range_row_leaves_unity_to_its_own_row():
    rating = mid("B")
    source = Standard.for_rating(rating).accuracy_limits(
        rating, at(rating, 10, 0.5, "inductive")).source
    assert "PF 0.5 ind…0.8 cap except 1" in source


def test_mid_below_itr_has_no_limit_at_other_power_factors():
    # the reference-condition table gives Imin ≤ I < Itr at PF 1 only
    with pytest.raises(ValueError, match="0 rows"):
        limit(mid("B"), 0.5, 0.5, "inductive")


@pytest.mark.parametrize(("meter_class", "amps", "pf", "kind", "expected"), [
    # MID Annex V Table 2, over rated operating conditions
    ("C", 0.3, 1.0, "unity", 1.0),
    ("C", 1.0, 1.0, "unity", 0.7),
    ("C", 10, 0.5, "inductive", 0.7),
    ("A", 0.5, 0.5, "inductive", 3.5),
    ("B", 0.5, 1.0, "unity", 2.0),
    ("B", 80, 1.0, "unity", 2.0),
])
def test_mid_composite_mpe(meter_class, amps, pf, kind, expected):
    rating = mid(meter_class)
    mpe = Standard.for_rating(rating).composite_mpe(rating, at(rating, amps, pf, kind))
    assert (mpe.low, mpe.high) == (-expected, expected)
    assert "composite error over the rated operating" in mpe.source


def test_iec_has_no_composite_mpe():
    with pytest.raises(KeyError, match="composite_mpe"):
        Standard.for_rating(IEC1).composite_mpe(IEC1, at(IEC1, 5))


@pytest.mark.parametrize(("meter_class", "amps", "expected"), [
    # 1/10 of the composite MPE (MID Annex V Table 2)
    ("C", 10, 0.07),    # 0.7 / 10
    ("C", 0.3, 0.1),    # 1.0 / 10 at Imin
    ("A", 10, 0.35),    # 3.5 / 10
    ("B", 10, 0.2),     # 2 / 10
])
def test_mid_repeatability(meter_class, amps, expected):
    rating = mid(meter_class)
    limits = Standard.for_rating(rating).repeatability_limits(rating, at(rating, amps))
    assert limits.low is None
    assert limits.high == pytest.approx(expected, abs=1e-12)


def test_iec_has_no_repeatability_figure():
    with pytest.raises(KeyError, match="repeatability"):
        Standard.for_rating(IEC1).repeatability_limits(IEC1, at(IEC1, 5))


# --- starting current, creep, starting --------------------------------------------------------

@pytest.mark.parametrize(("rating", "expected"), [
    (IEC1, 0.02),       # 0.004 × Ib = 0.004 × 5
    (IEC2, 0.025),      # 0.005 × 5
    (MeterRating("iec62053-21", "1", un=230, ib=10, imax=100, fn=50, constant=1000), 0.04),
    (mid("A"), 0.05),   # 0.05 × Itr = 0.05 × 1 A
    (mid("B"), 0.04),   # 0.04 × 1 A
    (mid("C"), 0.04),
])
def test_starting_current(rating, expected):
    assert Standard.for_rating(rating).starting_current(rating) == pytest.approx(expected)


def test_creep_iec_class_1():
    creep = Standard.for_rating(IEC1).creep(IEC1)
    assert creep.voltage == pytest.approx(253.0)     # 1.15 × 220
    # t1 = 6·10⁴ / (1200 × 1 × 220 × 0.02) = 11.3636 min = 681.818 s; production 10 t1
    assert creep.duration_s == pytest.approx(6818.18, abs=0.01)
    # 2003: 600·10⁶ / (1200 × 1 × 220 × 60) = 37.8788 min = 2272.73 s, shorter
    assert creep.periods["IEC 62053-21:2003 §8.3.2"] == pytest.approx(2272.73, abs=0.01)
    assert creep.governing == "IEC 62052-11:2020 10·t₁"
    assert creep.max_pulses == 1
    assert "ASSUMPTION" in creep.source
    assert "480·10⁶ for class 2" in creep.source


@pytest.mark.parametrize(("rating", "formula_2003_s", "t1_10_s"), [
    # Ib 10 A, Imax 30 A, 220 V, 1200 imp/kWh. Class 1: 600·10⁶ / (1200 × 220 × 30) =
    # 75.7576 min = 4545.45 s; Ist = 0.04 A, t1 = 6·10⁴ / (1200 × 220 × 0.04) = 5.68182 min
    # = 340.909 s, × 10 = 3409.09 s
    (MeterRating("iec62053-21", "1", un=220, ib=10, imax=30, fn=50, constant=1200),
     4545.45, 3409.09),
    # class 2: 480·10⁶ / (1200 × 220 × 30) = 60.6061 min = 3636.36 s; Ist = 0.05 A,
    # t1 = 272.727 s, × 10 = 2727.27 s
    (MeterRating("iec62053-21", "2", un=220, ib=10, imax=30, fn=50, constant=1200),
     3636.36, 2727.27),
    # three elements: 600·10⁶ / (1200 × 3 × 220 × 30) = 1515.15 s; 10 t1 = 1136.36 s
    (MeterRating("iec62053-21", "1", un=220, ib=10, imax=30, fn=50, constant=1200,
                 elements=3), 1515.15, 1136.36),
])
def test_creep_2003_formula_governs_when_longer(rating, formula_2003_s, t1_10_s):
    creep = Standard.for_rating(rating).creep(rating)
    assert creep.periods == {"IEC 62053-21:2003 §8.3.2": pytest.approx(formula_2003_s, abs=0.01),
                             "IEC 62052-11:2020 10·t₁": pytest.approx(t1_10_s, abs=0.01)}
    assert creep.governing == "IEC 62053-21:2003 §8.3.2"
    assert creep.duration_s == pytest.approx(formula_2003_s, abs=0.01)


def test_creep_type_test_doubles():
    # 20 × 681.818 s
    assert Standard.for_rating(IEC1).creep(IEC1, "type_test").duration_s == pytest.approx(
        13636.36, abs=0.01)


def test_creep_counts_elements():
    rating = MeterRating("iec62053-21", "1", un=220, ib=5, imax=60, fn=50, constant=1200,
                         elements=3)
    # t1 = 6·10⁴ / (1200 × 3 × 220 × 0.02) = 3.78788 min = 227.273 s; × 10
    assert Standard.for_rating(rating).creep(rating).duration_s == pytest.approx(2272.73, abs=0.01)


def test_creep_mid_class_b():
    creep = Standard.for_rating(mid("B")).creep(mid("B"))
    assert creep.voltage == pytest.approx(264.5)     # 1.15 × 230
    # t1 = 6·10⁴ / (1000 × 1 × 230 × 0.04) = 6.52174 min = 391.304 s; × 10
    assert creep.duration_s == pytest.approx(3913.04, abs=0.01)
    # B takes class 1's 600·10⁶ (ASSUMPTION in the data): 600·10⁶ / (1000 × 230 × 80) min
    assert creep.periods["IEC 62053-21:2003 §8.3.2"] == pytest.approx(1956.52, abs=0.01)


def test_creep_mid_class_a_takes_class_2_constant():
    # 480·10⁶ / (1000 × 230 × 80) = 26.087 min = 1565.22 s
    creep = Standard.for_rating(mid("A")).creep(mid("A"))
    assert creep.periods["IEC 62053-21:2003 §8.3.2"] == pytest.approx(1565.22, abs=0.01)


def test_creep_unknown_purpose():
    with pytest.raises(KeyError, match="acceptance"):
        Standard.for_rating(IEC1).creep(IEC1, "acceptance")


def test_starting_iec_class_1():
    test = Standard.for_rating(IEC1).starting(IEC1)
    assert test.current == pytest.approx(0.02)
    assert test.duration_s == pytest.approx(2045.45, abs=0.01)   # 3 × 681.818 s
    assert test.min_pulses == 2


def test_starting_mid_class_a():
    test = Standard.for_rating(mid("A")).starting(mid("A"))
    assert test.current == pytest.approx(0.05)
    # t1 = 6·10⁴ / (1000 × 230 × 0.05) = 5.21739 min = 313.043 s; × 3
    assert test.duration_s == pytest.approx(939.13, abs=0.01)


# --- meter constant ---------------------------------------------------------------------------

@pytest.mark.parametrize(("rating", "tolerance", "least", "energy"), [
    # class limit L at Imax PF 1 (reference conditions); tolerance = L / 10; the energy by
    # pulses must reach least = 0.01 kWh × 100 / (tolerance / 10); the dose least / (1 − L/100)
    # is rounded up to whole 0.01 kWh register steps
    (IEC1, 0.1, 100.0, 101.02),       # L 1.0; 100 / 0.99 = 101.0101…
    (IEC2, 0.2, 50.0, 51.03),         # L 2.0; 50 / 0.98 = 51.0204…
    (mid("A"), 0.2, 50.0, 51.03),     # L 2.0 (EN 50470-3 §8.1)
    (mid("B"), 0.1, 100.0, 101.02),   # L 1.0
    (mid("C"), 0.05, 200.0, 201.01),  # L 0.5; 200 / 0.995 = 201.005…
])
def test_constant_test(rating, tolerance, least, energy):
    test = Standard.for_rating(rating).constant_test(rating)
    assert (test.limits.low, test.limits.high) == (pytest.approx(-tolerance),
                                                   pytest.approx(tolerance))
    assert test.energy_kwh == pytest.approx(energy, abs=1e-9)
    assert (test.registered.low, test.registered.high) == (pytest.approx(least), None)
    assert test.current == pytest.approx(rating.imax)
    assert test.point.power_factor == 1.0


def test_constant_test_limits_carry_their_units():
    # the energy by pulses (kWh) and the register's disagreement (%) are judged each against
    # limits in its own unit; a value in another unit is refused, not logged as a FAIL
    test = Standard.for_rating(IEC1).constant_test(IEC1)
    assert (test.limits.unit, test.registered.unit) == ("%", "kWh")
    assert judge("energy by pulses", 101.0, "kWh", test.registered, "c").passed
    with pytest.raises(ValueError, match="'kWh' judged against limits in '%'"):
        judge("energy by pulses", 101.0, "kWh", test.limits, "c")


@pytest.mark.parametrize("rating", [IEC1, IEC2, mid("A"), mid("B"), mid("C")],
                         ids=lambda r: f"{r.standard}-{r.meter_class}")
def test_constant_dose_makes_register_resolution_small_enough(rating):
    standard = Standard.for_rating(rating)
    test = standard.constant_test(rating)
    class_limit = standard.accuracy_limits(rating, test.point).high
    slowest = test.energy_kwh * (1 - class_limit / 100)   # a meter at its class limit, low
    assert slowest >= test.registered.low
    # 0.01 kWh is at most 1/10 of the tolerance of what it registers
    assert 0.01 / slowest * 100 <= test.limits.high / 10 + 1e-12
    # one register step less is not enough
    assert (test.energy_kwh - 0.01) * (1 - class_limit / 100) < test.registered.low


# --- pulse comparison practice ----------------------------------------------------------------

@pytest.mark.parametrize(("rating", "amps", "pf", "kind", "pulses"), [
    # P = 220 × 5 = 1100 W, T = 3.6·10⁶ / (1200 × 1100) = 2.727 s: 30 s is 11 pulses → 25
    (IEC1, 5, 1.0, "unity", 25),
    # P = 220 × 60 = 13200 W, T = 0.22727 s: 132 pulses last exactly 30 s, not more → 133
    (IEC1, 60, 1.0, "unity", 133),
    # P = 230 × 80 = 18400 W, T = 0.195652 s: 30 / T = 153.33 → 154 (30.13 s)
    (mid("C"), 80, 1.0, "unity", 154),
    # P = 230 × 80 × 0.5 = 9200 W, T = 0.391304 s: 30 / T = 76.67 → 77
    (mid("C"), 80, 0.5, "inductive", 77),
    # P = 230 × 80 × 0.8 = 14720 W, T = 0.244565 s: 30 / T = 122.67 → 123
    (mid("C"), 80, 0.8, "capacitive", 123),
])
def test_accuracy_run_pulses(rating, amps, pf, kind, pulses):
    run = Standard.for_rating(rating).accuracy_run(rating, at(rating, amps, pf, kind))
    assert run.dut_pulses == pulses


def test_accuracy_run_practice():
    run = Standard.for_rating(IEC1).accuracy_run(IEC1, at(IEC1, 5))
    assert run.min_duration_s == 30
    assert run.readings == 2
    assert run.remeasure_band == (0.8, 1.2)
    assert (run.settling.voltage_s, run.settling.load_s) == (10, 10)
    assert "voltage applied >= 10 s before testing" in run.settling.source


# --- influence quantities ---------------------------------------------------------------------

@pytest.mark.parametrize(("influence", "pf", "cl1", "cl2"), [
    ("voltage", "1", 0.7, 1.0),
    ("voltage", "0.5 ind", 1.0, 1.5),
    ("frequency", "1", 0.5, 0.8),
    ("frequency", "0.5 ind", 0.7, 1.0),
])
def test_influence_limits_at_ib(influence, pf, cl1, cl2):
    for rating, expected in ((IEC1, cl1), (IEC2, cl2)):
        limits = Standard.for_rating(rating).influence_limits(rating, influence,
                                                              at(rating, 5, *PF[pf]))
        assert (limits.low, limits.high) == (-expected, expected)


def test_influence_limit_row_boundaries():
    standard = Standard.for_rating(IEC1)
    assert standard.influence_limits(IEC1, "voltage", at(IEC1, 0.25)).high == 0.7  # 0.05 Ib
    assert standard.influence_limits(IEC1, "voltage", at(IEC1, 0.5, 0.5, "inductive")).high == 1.0
    with pytest.raises(ValueError):   # PF 0.5 ind row starts at 0.1 Ib = 0.5 A
        standard.influence_limits(IEC1, "voltage", at(IEC1, 0.25, 0.5, "inductive"))
    with pytest.raises(ValueError):   # no PF 0.8 cap row
        standard.influence_limits(IEC1, "frequency", at(IEC1, 5, 0.8, "capacitive"))


def test_influence_source_names_the_influence():
    source = Standard.for_rating(IEC1).influence_limits(IEC1, "frequency", at(IEC1, 5)).source
    assert "frequency ±2 %" in source
    assert "0.05 Ib ≤ I ≤ Imax, PF 1" in source


def test_influence_points():
    points = Standard.for_rating(IEC1).influence_points(IEC1)
    # voltage ±10 % of 220 V = 198 / 242 V; frequency ±2 % of 50 Hz = 49 / 51 Hz
    assert [(p.influence, p.point.name, p.point.current,
             [(v.voltage, v.frequency) for v in p.varied]) for p in points] == [
        ("voltage", "Ib PF 1", 5.0, [(198.0, 50), (pytest.approx(242.0), 50)]),
        ("voltage", "Ib PF 0.5 ind", 5.0, [(198.0, 50), (pytest.approx(242.0), 50)]),
        ("frequency", "Ib PF 1", 5.0, [(220, 49.0), (220, 51.0)]),
        ("frequency", "Ib PF 0.5 ind", 5.0, [(220, 49.0), (220, 51.0)]),
    ]
    assert [v.name for v in points[0].varied] == ["Ib PF 1, U −10 %", "Ib PF 1, U +10 %"]


def test_unknown_influence_is_named():
    with pytest.raises(KeyError, match="harmonics"):
        Standard.for_rating(IEC1).influence_limits(IEC1, "harmonics", at(IEC1, 5))


def test_mid_has_no_influence_figures():
    with pytest.raises(KeyError, match="influence"):
        Standard.for_rating(mid("B")).influence_points(mid("B"))
