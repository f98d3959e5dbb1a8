from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from lms.learning.progress import count_words, merge_segments, played_fraction


def test_overlapping_and_touching_segments_merge():
    assert merge_segments([(10, 20), (0, 5), (15, 30), (30.2, 40)]) == [(0, 5), (10, 40)]


def test_segments_are_clipped_to_the_video():
    assert merge_segments([(-5, 3), (50, 90)], duration=60) == [(0, 3), (50, 60)]


def test_seeking_to_the_end_counts_only_what_played():
    # A learner who plays 2 seconds, seeks to the last 2 seconds of a 100 s video.
    segments = merge_segments([(0, 2), (98, 100)], duration=100)
    assert played_fraction(segments, 100) == 0.04


def test_words_are_counted_in_any_language():
    assert count_words("Hola, ¿qué tal? Está bien — self-paced learner's note") == 8
    assert count_words("   ") == 0


@given(st.lists(st.tuples(st.floats(-100, 200), st.floats(-100, 200)), max_size=40))
def test_merged_segments_never_overlap_and_fraction_stays_in_range(raw):
    merged = merge_segments(raw, duration=100)
    for (_s1, e1), (s2, _e2) in pairwise(merged):
        assert e1 < s2
    assert all(0 <= s < e <= 100 for s, e in merged)
    assert 0 <= played_fraction(merged, 100) <= 1
