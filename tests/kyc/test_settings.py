import dataclasses

import pytest

from kyc.settings import KycSettings


def test_defaults_are_documented_values():
    s = KycSettings()
    assert s.match_threshold == 0.5
    assert s.max_frame_bytes == 4 * 1024 * 1024
    assert s.max_frame_pixels == 25_000_000
    assert s.detection_width == 480
    assert (s.min_frames, s.max_frames) == (3, 6)
    assert s.frames_mirrored is False


def test_from_mapping_reads_kyc_keys_and_ignores_the_rest():
    config = {"KYC_MATCH_THRESHOLD": 0.45, "KYC_MAX_FRAMES": 5, "KYC_PROVIDER": "local",
              "SECRET_KEY": "x", "KYC_FRAMES_MIRRORED": True}
    s = KycSettings.from_mapping(config)
    assert s.match_threshold == 0.45 and s.max_frames == 5 and s.frames_mirrored is True
    assert s.max_frame_bytes == KycSettings().max_frame_bytes


def test_from_mapping_reads_strings_as_environment_variables_are():
    env = {"KYC_MATCH_THRESHOLD": "0.55", "KYC_MAX_FRAME_BYTES": "1000000",
           "KYC_FRAMES_MIRRORED": "false", "KYC_TURN_YAW_DEGREES": "25"}
    s = KycSettings.from_mapping(env)
    assert s.match_threshold == 0.55 and s.max_frame_bytes == 1_000_000
    assert s.frames_mirrored is False and s.turn_yaw_degrees == 25.0


def test_every_field_round_trips_through_its_key():
    s = KycSettings(match_threshold=0.4, min_frames=2, max_frames=4)
    assert KycSettings.from_mapping(s.as_mapping()) == s
    assert set(s.as_mapping()) == {"KYC_" + f.name.upper() for f in dataclasses.fields(s)}


@pytest.mark.parametrize("config", [
    {"KYC_MATCH_THRESHOLD": "loose"},
    {"KYC_MAX_FRAMES": "6.5"},
    {"KYC_FRAMES_MIRRORED": "maybe"},
    {"KYC_MIN_FRAMES": 5, "KYC_MAX_FRAMES": 3},
    {"KYC_MATCH_THRESHOLD": 0},
    {"KYC_MAX_FRAME_BYTES": 0},
])
def test_invalid_values_are_refused(config):
    with pytest.raises(ValueError):
        KycSettings.from_mapping(config)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        KycSettings().match_threshold = 0.9  # type: ignore[misc]
