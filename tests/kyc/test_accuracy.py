"""Genuine pairs match and impostor pairs don't at the chosen threshold (docs/kyc.md)."""

import itertools

import pytest

from kyc.engine import face_distance
from kyc.match import match_images
from tests.kyc.conftest import photo

PERSON = {"obama.jpg": "obama", "obama2.jpg": "obama", "obama-240p.jpg": "obama",
          "32bit.png": "obama", "obama_partial_face.jpg": "obama", "biden.jpg": "biden",
          "biden2.jpg": "biden", "lin-manuel-miranda.png": "lin"}
# Whole faces only; the half face is checked on its own below.
WHOLE = [name for name in PERSON if name != "obama_partial_face.jpg"]
PAIRS = list(itertools.combinations(WHOLE, 2))
GENUINE = [pair for pair in PAIRS if PERSON[pair[0]] == PERSON[pair[1]]]
IMPOSTOR = [pair for pair in PAIRS if PERSON[pair[0]] != PERSON[pair[1]]]


@pytest.mark.parametrize(("a", "b"), GENUINE)
def test_genuine_pairs_match(a, b, references, settings):
    assert face_distance(references[a], references[b]) <= settings.match_threshold


@pytest.mark.parametrize(("a", "b"), IMPOSTOR)
def test_impostor_pairs_do_not_match(a, b, references, settings):
    assert face_distance(references[a], references[b]) > settings.match_threshold


def test_the_threshold_leaves_a_margin_on_both_sides(references, settings):
    genuine = max(face_distance(references[a], references[b]) for a, b in GENUINE)
    impostor = min(face_distance(references[a], references[b]) for a, b in IMPOSTOR)
    assert genuine < settings.match_threshold - 0.05 < settings.match_threshold + 0.1 < impostor


def test_a_half_face_gives_a_clear_decision(engine, settings):
    result = match_images(photo("obama_partial_face.jpg"), photo("obama.jpg"), settings, engine)
    assert result.faces_a == 1 and result.faces_b == 1
    assert result.distance is not None and result.same_person is True
    impostor = match_images(photo("obama_partial_face.jpg"), photo("biden.jpg"), settings,
                            engine)
    assert impostor.same_person is False


def test_two_people_give_no_distance(engine, settings):
    result = match_images(photo("two_people.jpg"), photo("obama.jpg"), settings, engine)
    assert (result.faces_a, result.faces_b) == (2, 1)
    assert result.distance is None and result.same_person is None
