import ast
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from kyc import reasons
from kyc.engine import get_engine, reference_encoding
from kyc.images import FrameRejected, decode_image
from tests.kyc.conftest import photo

KYC = Path(__file__).resolve().parents[2] / "kyc"


def test_the_engine_is_one_per_process_even_across_threads(engine):
    seen = []
    threads = [threading.Thread(target=lambda: seen.append(get_engine())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(other is engine for other in seen)


def test_loading_the_engine_leaves_truncated_images_refused(engine):
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_importing_the_engine_in_a_fresh_process_under_warnings_as_errors():
    """pkg_resources' deprecation warning would make face_recognition exit the process
    with status 0; kyc ignores exactly that warning."""
    code = ("import kyc.engine as e, PIL.ImageFile as f; e.get_engine(); "
            "print('loaded', f.LOAD_TRUNCATED_IMAGES)")
    command = [sys.executable, "-W", "error", "-c", code]
    result = subprocess.run(command, capture_output=True,  # noqa: S603 (our interpreter)
                            text=True, timeout=120, cwd=KYC.parent, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded False"


def test_faces_returns_box_landmarks_and_encoding_in_original_coordinates(engine):
    image = decode_image(photo("obama.jpg"))
    faces = engine.faces(image)
    assert len(faces) == 1
    face = faces[0]
    top, right, bottom, left = face.box
    assert 0 <= left < right <= image.width and 0 <= top < bottom <= image.height
    assert right - left > 200  # the face in the 910 px wide photo, not in the 480 px copy
    assert face.encoding.shape == (128,)
    assert set(face.landmarks) == {"chin", "left_eyebrow", "right_eyebrow", "nose_bridge",
                                   "nose_tip", "left_eye", "right_eye", "top_lip",
                                   "bottom_lip"}
    assert len(face.landmarks["chin"]) == 17 and len(face.landmarks["top_lip"]) == 12
    nose_x, nose_y = face.landmarks["nose_bridge"][3]
    assert left < nose_x < right and top < nose_y < bottom


def test_two_people_are_two_faces(engine):
    assert len(engine.faces(decode_image(photo("two_people.jpg")))) == 2


def test_a_reference_photo_with_two_people_is_refused(engine):
    with pytest.raises(FrameRejected) as caught:
        reference_encoding(photo("two_people.jpg"), engine=engine)
    assert caught.value.reason == reasons.MULTIPLE_FACES


def test_a_reference_photo_without_a_face_is_refused(engine):
    import io

    out = io.BytesIO()
    Image.new("RGB", (400, 300), (90, 140, 90)).save(out, "JPEG")
    with pytest.raises(FrameRejected) as caught:
        reference_encoding(out.getvalue(), engine=engine)
    assert caught.value.reason == reasons.NO_FACE


def test_a_reference_photo_that_is_not_an_image_is_refused(engine):
    with pytest.raises(FrameRejected) as caught:
        reference_encoding(b"<html>", engine=engine)
    assert caught.value.reason == reasons.IMAGE_UNREADABLE


def test_the_reference_encoding_is_stable(engine, references):
    again = reference_encoding(photo("obama.jpg"), engine=engine)
    assert np.allclose(again, references["obama.jpg"])


def test_kyc_imports_nothing_from_the_platform():
    for path in KYC.glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] not in {"app", "api", "sandbox", "tests"}, (
                    f"{path.name} imports {name}")
