import pytest

from kyc.images import decode_image
from kyc.replay import HASH_HEX_LENGTH, closest_seen, frame_hash, hash_distance, is_replay
from kyc.settings import KycSettings
from kyc.testing import reencode, still_burst
from tests.kyc.conftest import FACES


@pytest.fixture(scope="module")
def frames():
    return still_burst(FACES / "obama.jpg", 3, seed=11)


def test_a_hash_is_64_hex_characters(frames):
    value = frame_hash(decode_image(frames[0]))
    assert len(value) == HASH_HEX_LENGTH == 64
    int(value, 16)


def test_the_same_frame_is_a_replay_even_re_encoded(frames):
    original = frame_hash(decode_image(frames[0]))
    for quality in (95, 70, 40):
        again = frame_hash(decode_image(reencode(frames[0], quality)))
        assert hash_distance(original, again) <= 2
        assert is_replay(again, [original])


def test_other_frames_of_the_same_person_are_not_replays(frames):
    hashes = [frame_hash(decode_image(f)) for f in frames]
    assert not is_replay(hashes[1], [hashes[0], hashes[2]])
    assert closest_seen(hashes[0], hashes[1:]) > KycSettings().replay_max_distance


def test_unusable_stored_hashes_are_skipped(frames):
    value = frame_hash(decode_image(frames[0]))
    assert not is_replay(value, ["", "zz" * 32, value[:16], None])  # type: ignore[list-item]
    assert closest_seen(value, []) is None


def test_hash_distance():
    assert hash_distance("ff", "00") == 8
    assert hash_distance("f0", "f1") == 1
    with pytest.raises(ValueError):
        hash_distance("ff", "fff")
