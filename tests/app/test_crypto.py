"""Encryption of personal data at rest and keyed look-up hashes."""

import pytest

from app.kernel.crypto import DataProtector, DecryptionFailed
from app.kernel.settings import new_key


@pytest.fixture
def protector():
    return DataProtector(new_key(), new_key())


def test_encryption_round_trips_rare_characters(protector):
    token = protector.encrypt("王𠮷", "persons.name")
    assert "王" not in token
    assert protector.decrypt(token, "persons.name") == "王𠮷"


def test_the_same_value_encrypts_differently_each_time(protector):
    assert protector.encrypt("13800000000", "c") != protector.encrypt("13800000000", "c")


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(protector):
    token = protector.encrypt("11010519491231002X", "persons.id_number")
    with pytest.raises(DecryptionFailed):
        protector.decrypt(token, "persons.phone")


def test_a_ciphertext_does_not_decrypt_with_another_key(protector):
    other = DataProtector(new_key(), new_key())
    with pytest.raises(DecryptionFailed):
        other.decrypt(protector.encrypt("x", "c"), "c")


def test_lookup_hashes_are_stable_per_key_and_purpose(protector):
    assert protector.lookup_hash("a", "phone") == protector.lookup_hash("a", "phone")
    assert protector.lookup_hash("a", "phone") != protector.lookup_hash("a", "resident_id")
    assert DataProtector(new_key(), new_key()).lookup_hash("a", "phone") != protector.lookup_hash(
        "a", "phone")
